// Package handoffs carries a repatriation handoff between two
// organisations, each in its own tenant: a partner NGO in Thailand or
// Malaysia (the sender) hands a survivor over to AFESIP in Laos (the
// receiver), sharing only what the partnership, consent and need allow.
//
// # Partnerships
//
// An organisation's admin proposes a partnership to another organisation,
// whose admin accepts (or declines) it. A handoff partnership states its
// direction (From sends to To), the field groups that may travel
// (identity, family, legal; medical only where the case also holds the
// health_sharing consent; psychological never), whether documents of
// those groups may travel, the reference of the written data-sharing
// agreement, the days after which a stage that has not moved is a stall
// (reminders), and whether To shares anonymised programme statistics back
// with From. A statistics partnership lets From share its anonymised
// statistics (k = 11) with To, and nothing else (AFESIP Laos with its
// headquarters). Either side suspends, resumes or ends it; no new handoff
// without an active handoff partnership.
//
// # Storage: two tenant-owned records and a controlled copy
//
// Nothing here is a global table. A partnership, a handoff, its stage
// entries, its thread messages and its feedback are written twice, one row
// in each organisation's tenant with the same id, in one transaction
// through tenants.Store.AcrossTenants (sender's rows, then receiver's), after
// this package has checked the partnership. Free text (notes, messages,
// reasons) is a tenants.Secret under a data key of that tenant whose id is
// the handoff's id, so each side's copy is encrypted under its own keys and
// each side can shred its own. The fields the sender chose travel as the
// shared copy: one row in the receiver's tenant only (handoff_shares),
// encrypted under the receiver's handoff data key; withdrawal before
// acceptance shreds that key. On acceptance the receiver's case is created
// from the shared copy with the cases service's building blocks, under the
// receiver's keys, and the documents received become the case's (under its
// key, so erasing the case shreds them). A withdrawn sharing consent stops
// the case's handoffs at once, and its background job
// (SharingConsentWithdrawn) marks them stopped on both sides and tells
// the receiver. Neither side ever reads the other's tenant: the sender
// never sees the receiver's case, the receiver never sees a field the
// sender did not choose.
//
// # Stages
//
// The stages of domain.md's table, in order; each side records only the
// stages it owns and confirms where the table says so; a stage is
// recorded only after the one before it; going back (reopening a stage)
// needs a reason. Both sides see the whole timeline.
//
//	1  identification and protection        sender
//	2  case interview                       sender
//	3a family tracing request               sender
//	3b family tracing and assessment result receiver
//	4  nationality verification, travel doc sender
//	5  return plan                          sender, receiver confirms
//	6  handover at the border or arrival    sender marks, receiver confirms received
//	7  transit centre                       receiver
//	8  admission                            receiver (needs the handoff accepted: its case exists)
//	9  follow-up feedback                   receiver
//
// Admission (8) moves the sender's case to referred.
//
// Every function takes the principal from the context, authorizes, works
// in one transaction (AcrossTenants when both sides change), audits on
// each side it touches (record type "handoff"), and asks for the other
// side's notices (in-app and mail) through the outbox in that same
// transaction.
package handoffs
