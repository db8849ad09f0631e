package journal

import (
	"bytes"
	"testing"
)

// FuzzDecodeRecord feeds arbitrary bytes to the decoders, both as a whole
// frame and, past the checksum that random input rarely matches, as a kind
// byte and a payload. They must never panic, and whatever decodes must encode
// to a canonical frame that decodes to the same record.
func FuzzDecodeRecord(f *testing.F) {
	for i := range 6 {
		rec := testRecord(i)
		p, err := appendPayload(nil, &rec)
		if err != nil {
			f.Fatal(err)
		}
		var hdr [maxHeader]byte
		f.Add(append(frameHeader(&hdr, rec.Kind, p), p...))
		f.Add(append([]byte{byte(rec.Kind)}, p...))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if kind, payload, n, err := decodeFrame(b); err == nil {
			if n > len(b) || len(payload) > n {
				t.Fatalf("frame of %d bytes with payload %d in %d bytes", n, len(payload), len(b))
			}
			checkPayload(t, kind, payload)
		}
		if len(b) > 0 {
			checkPayload(t, Kind(b[0]), b[1:])
		}
	})
}

func checkPayload(t *testing.T, kind Kind, payload []byte) {
	var rec Record
	if err := decodePayload(kind, payload, &rec); err != nil {
		return
	}
	frame := encodeFrame(t, &rec)
	var rec2 Record
	k2, p2, n2, err := decodeFrame(frame)
	if err != nil || n2 != len(frame) || k2 != kind {
		t.Fatalf("re-encoded frame: kind %v n %d err %v", k2, n2, err)
	}
	if err := decodePayload(k2, p2, &rec2); err != nil {
		t.Fatalf("decode re-encoded record: %v", err)
	}
	if again := encodeFrame(t, &rec2); !bytes.Equal(again, frame) {
		t.Fatalf("encoding is not canonical:\n%x\n%x", frame, again)
	}
}

func encodeFrame(t *testing.T, rec *Record) []byte {
	t.Helper()
	p, err := appendPayload(nil, rec)
	if err != nil {
		t.Fatalf("encode decoded record: %v", err)
	}
	var hdr [maxHeader]byte
	return append(frameHeader(&hdr, rec.Kind, p), p...)
}
