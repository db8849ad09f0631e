// Package simulate generates synthetic traffic with known labels: card
// transactions after the Fraud Detection Handbook's simulator (Le Borgne et
// al., ULB and Worldline), logins shaped like the RBA dataset (Wiefling et
// al.) with account-takeover attacks, and a live stream with planted habit
// ruptures for demonstrations.
//
// Everything is a pure function of its configuration and seed: no clock, no
// files, no network. Generators hand out values through iterators
// (iter.Seq[*Tx], iter.Seq[*Login]) in time order, reusing the value they
// yield; writers only write to an io.Writer the caller supplies. The live
// stream (NewLive, Live.Next) takes the wall-clock start as a value and says
// when each event is due: the caller sleeps.
//
// Random streams come from math/rand/v2's PCG. Each independent stream of a
// run (customer profiles, terminal profiles, one customer's transactions, one
// fraud day...) is derived from (Seed, purpose, index), in the spirit of the
// handbook's per-purpose seeds, so one Seed reproduces a whole run and turning
// on an extra scenario leaves the other streams untouched. numpy's generator
// cannot be reproduced bit for bit, so a run matches the handbook's dataset in
// its statistics, not row for row.
package simulate
