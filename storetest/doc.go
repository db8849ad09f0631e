// Package storetest is the contract every occsimore SQL store must pass. The
// sqlite and postgres packages run it against a real database:
//
//	storetest.Run(t, func(t *testing.T) *sqlstore.DB { ... })
//
// It is ordinary (non-test) code so that both packages can import it.
package storetest
