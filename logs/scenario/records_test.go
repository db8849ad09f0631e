package scenario

// CloudTrail records (as in logs/parse's tests) shaped after the examples in AWS's CloudTrail User Guide
// ("CloudTrail record contents"); account ids and addresses are documentation values.
const ctDenied = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/Mateo","accountId":"111122223333","userName":"Mateo"},"eventTime":"2026-11-27T10:15:01Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.13.5","errorCode":"AccessDenied","errorMessage":"User is not authorized","requestParameters":null,"responseElements":null,"eventID":"e1","recipientAccountId":"111122223333"}`

const ctService = `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2026-11-27T10:16:00.5Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"eu-west-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com","eventID":"e2"}`

const ctConsole = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Ana","accountId":"111122223333","userName":"Ana"},"eventTime":"2026-11-27T10:17:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"2001:db8::7","userAgent":"Mozilla/5.0","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"},"eventID":"e3"}`
