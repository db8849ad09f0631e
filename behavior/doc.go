// Package behavior learns per-entity habits online and scores each event by
// how far it breaks them, with reasons an analyst can read. It is pure: it
// takes events and returns results, and its only I/O is the io.Writer and
// io.Reader of snapshots.
//
// # Profiles
//
// A Spec lists, for an event kind, the entity roles that keep a profile (a
// card transaction touches a card, a customer, a terminal and a merchant)
// and the habits each one learns:
//
//   - numeric: decayed mean and variance of an attribute at several
//     half-lives (the amount at 1, 7 and 30 days);
//   - categorical: the top K values of an attribute by decayed frequency,
//     as 32-bit fingerprints, plus the decayed count of events that
//     brought a new value;
//   - hours: 24 hour-of-day and 7 day-of-week counters of one byte each;
//   - velocity: decayed counts over short windows and the usual rate;
//   - gap: decayed mean and variance of the log time between events;
//   - travel: the last location, for impossible travel, and the home area
//     (a decayed centroid), to tell a trip from a stolen card used at home;
//   - risk: the fraud rate from labels, usable only after a delay.
//
// A profile is a fixed-size run of 32-bit words in a slab shared by every
// entity of its (member, kind, role), found through an open-addressing
// index on a seeded 64-bit hash of the entity id. The built-in card profile
// takes about 540 bytes, 570 with its index (its seen filters of terminals,
// merchants, devices and countries take 120). Members never share a slab,
// an index, peer statistics or the value dictionary.
//
// # Scores
//
// The score of an event is a sum of contributions in nats (natural logs of
// likelihood ratios). After Freeman et al. ("Who are you? A statistical
// approach to measuring user authenticity", NDSS 2016), a categorical or
// hour contribution is log p(value | attacker) / p(value | this entity),
// where the attacker draws from the population (for hours, half from the
// population and half uniformly). The entity's own distribution is blended
// with its peer group's (RoleSpec.PeerBy, else the population) by its
// history, so that a new entity is judged against its peers and is not
// flagged for being new:
//
//   - a familiar value contributes log p_pop(v) / (λ share(v) + (1-λ)
//     p_pop(v)), kept at or below zero (familiarity only);
//   - a new value contributes -log(λ r + 1 - λ), where r is the entity's
//     rate of new values smoothed towards its peers' and λ = 1-exp(-W/3)
//     after W events, so that after a month in one country a new country
//     is far more surprising than a new shop for a card that often tries
//     new shops; with a population table, it adds log(0.01 / the value's
//     share among peers), from -2 to +5 nats, because a fraudster's country
//     or a hosting network is rarer among the member's customers than a
//     holiday destination or a mobile network;
//   - "new" means never seen when the block keeps a seen filter
//     (CategoricalSpec.Seen, a Bloom filter of the entity's values): a card
//     uses more terminals than any top K holds;
//   - a time of day contributes the larger of that ratio on the hour
//     histogram and the tail surprisal (less one nat, as for numbers) of
//     its circular distance to the entity's usual time (a wrapped normal
//     fitted to the histogram).
//
// A numeric value contributes -log of its two-sided tail probability under
// the entity's mean and spread, less one nat (its average on ordinary
// values, so that several ordinary habits do not add up to one broken
// hard; 7.5 nats at 3.7σ), on a log scale for
// amounts (NumericSpec.Log: 5x the usual reads the same at 20 and at
// 2,000 EUR; a value below the usual adds nothing there). The peers' mean
// and spread stand in for a new entity's and fade out by its tenth event,
// so they never move the usual amount of an established card; its spread
// is shrunk towards the spread a typical entity keeps, and z is read as a
// Student t with as many degrees of freedom as the estimate has events (at
// most 50), so that a young card's narrow spread does not make an
// ordinary amount look extreme. A velocity window contributes the Poisson
// log-likelihood ratio of the observed count against the usual rate (a
// VelocitySpec with NewOf counts only events new to a categorical block:
// never-used terminals at home, accounts an address never tried); impossible
// travel 7 nats plus 3 per factor e of speed over the limit; risk log(entity
// fraud rate / population rate) with the entity's rate smoothed towards the
// population's.
//
// Each contribution is weighted (per block and per role), capped at 20
// nats, and floored at -1; negative contributions together take at most 1
// nat off the score, because familiar values are strongly correlated (the
// usual device comes with the usual IP, ASN and country). Correlated habits
// that break together (a new network, a new address and a new country)
// form a group (CategoricalSpec.Group) whose largest contribution counts in
// full and the others at a quarter. Thresholds per kind, overridable per
// member, turn the score into allow, review or block.
//
// # What an event teaches
//
// An event is scored against the past, then counted (velocity windows, last
// time and place, event count), and only then, if it is neither blocked nor
// a failure (a refused login, a declined payment, which anyone can make),
// folded into the habits: amounts, values, hours, the home area and the
// peer statistics. So three blocked frauds leave a card's usual amount
// where it was, and a credential-stuffing run teaches no account and no
// population its networks. A blocked event's values are remembered as met
// in the seen filters, so that a customer blocked abroad is not blocked
// again for the same new country at every payment. Learnt values are
// clipped to 4 standard deviations of the entity's (and the peers') mean,
// so that one outlier let through moves a habit by at most that much.
//
// Every positive contribution of 0.5 nats or more is a candidate Reason;
// a Result keeps the eight largest, as numbers (code, role, value,
// baseline, sigma...), and renders a sentence only when asked:
// "amount 412.50 is 8.6x this card's usual 47.95 (10.5σ)". Values behind a
// fingerprint ("top: FR") come from a bounded per-member dictionary filled
// when a value is new to an entity.
//
// # Time
//
// Process scores an event against the past and then folds it in. Decay is
// computed from the time between an entity's events. An event older than
// its entity's last event is folded in with weights decayed from the
// proper age, never with a negative time step, as long as it is within
// Config.MaxLateness of the newest event of its member and kind; older
// ones are refused. Labels count only from max(label time, event time +
// RiskSpec.LabelDelay) on, so that a score never uses a label it could not
// have known.
//
// # Concurrency and state
//
// The Engine's methods are safe for concurrent use: each profile is
// guarded by its shard's lock, peer statistics by their role's lock, and
// WriteSnapshot takes the engine's write lock for a consistent cut.
// ProcessBatch gives the results of Process event by event, but looks up
// the profiles of the next events while it scores one, so that their cache
// misses overlap. Snapshots are binary, versioned and CRC-32C checksummed; ReadSnapshot
// checks the hash seed and each kind's profile layout, and changes nothing
// unless the whole snapshot is sound.
package behavior
