// Package workers is Homeward's background work: the outbox relay that hands
// committed outbox rows to asynq, the asynq worker that runs each task's
// handler inside the tenant's transaction, the periodic-job scheduler, the
// queue monitor mounted at /ops/queues, and the Redis plumbing (including the
// in-process Redis of demo mode).
//
// The path of one job:
//
//  1. A feature writes its change and, in the same transaction, an outbox row
//     (tenants.Enqueue). A rolled-back change leaves no row, so no job.
//  2. The Relay claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL) and
//     enqueues each with the outbox id as asynq task id, the tenant in a task
//     header and the row's JSON of ids as payload. A task-id conflict means
//     the task is already queued: the row counts as sent. Rows sent but not
//     done after Relay.RedeliverAfter are sent again, so a Redis that lost its
//     data (the demo's in-process one after a restart) loses no job.
//  3. The Worker puts the tenant from the header into the context, opens
//     InTenant (Global for platform-wide work), locks the outbox row, skips it
//     when already done, runs the registered Handler with that transaction
//     and marks the row done in it. A handler's database changes and the done
//     mark commit together; a failing handler's changes roll back and asynq
//     retries the task. When retries are exhausted the row is marked dead.
//     Work that opens its own transactions (a service spanning two
//     organisations) is a Standalone: the row is checked, the work runs
//     with no transaction open, and the row is marked done afterwards, so
//     the work must write each of its effects once by itself.
//
// Delivery is at least once; a row's database effects commit exactly once.
// Work outside the database (sending mail) must be idempotent on its own.
//
// Payloads hold ids only. Handler errors are stored in Redis, shown by the
// queue monitor and copied into outbox.last_error: like log lines, they must
// never contain personal data.
package workers
