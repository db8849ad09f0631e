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
//   - travel: the last location, for impossible travel;
//   - risk: the fraud rate from labels, usable only after a delay.
//
// A profile is a fixed-size run of 32-bit words in a slab shared by every
// entity of its (member, kind, role), found through an open-addressing
// index on a seeded 64-bit hash of the entity id. The built-in card profile
// takes 340 bytes, about 370 with its index. Members never share a slab,
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
//     new shops;
//   - a time of day contributes the larger of that ratio on the hour
//     histogram and the excess surprisal of its circular distance to the
//     entity's usual time (a wrapped normal fitted to the histogram).
//
// A numeric value contributes its excess surprisal under the entity's
// blended mean and variance: ½z²-½ in the core, linear beyond 2σ (a
// Gaussian with Laplace tails), so heavy tails do not explode. A velocity
// window contributes the Poisson log-likelihood ratio of the observed
// count against the usual rate, impossible travel 7 nats plus the log of
// the speed over the limit, and risk log(entity fraud rate / population
// rate) with the entity's rate smoothed towards the population's.
//
// Each contribution is weighted (per block and per role), capped at 20
// nats, and floored at -1; negative contributions together take at most 1
// nat off the score, because familiar values are strongly correlated (the
// usual device comes with the usual IP, ASN and country). Thresholds per
// kind, overridable per member, turn the score into allow, review or
// block.
//
// Every positive contribution of 0.5 nats or more is a candidate Reason;
// a Result keeps the eight largest, as numbers (code, role, value,
// baseline, sigma...), and renders a sentence only when asked:
// "amount 412.50 is 7.9σ above this card's usual 48.20". Values behind a
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
