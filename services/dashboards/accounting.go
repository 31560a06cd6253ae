//lint:file-ignore SA1019 the v1 dashboard model is what Grafana's file provisioning and import take; v2 needs Grafana 12's new-layouts feature.

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// accounting follows an accounting record from the edge's durable append,
// through the cdr consumer, to its effects: CDRs, settlement and the rest.
func accounting() *dashboard.DashboardBuilder {
	return newBoard("kradius / Accounting",
		"Accounting-log appends (the NAS's durable ack), the cdr consumer's lag, effects and transactions, and the journal's commits.").
		WithRow(row("Edge appends")).
		WithPanel(series("Append latency p50/p99", "s",
			"How long a NAS waits for its Accounting-Response: the record is durable in the log before the edge answers.",
			quantiles("kradius_edge_accounting_append_seconds", `instance=~"$instance"`, "", true)...)).
		WithPanel(series("Durable acks/s (appends by result)", "reqps",
			"ok is an Accounting-Response sent; error is a record the NAS still holds and will send again.",
			target(`sum by (result) (rate(kradius_edge_accounting_appends_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{result}}"))).
		WithRow(row("CDR consumer")).
		WithPanel(series("Consumer lag by partition", "short",
			"Records appended that the cdr consumer has not committed: effects still to come. It grows while the edge is busy and falls when it is quiet. With the journal, each pod has its own partition 0.",
			target(`max by (instance, partition) (kradius_cdr_lag_records{instance=~"$instance"})`, "{{partition}} {{instance}}"))).
		WithPanel(series("Records consumed/s by status and result", "reqps",
			"applied: a Stop whose effects ran; no_effect: a record that makes none; undecodable: a record the consumer could not read.",
			target(`sum by (status, result) (rate(kradius_cdr_records_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{status}} {{result}}"))).
		WithPanel(series("CDRs/s", "short",
			"CDRs published, one per finished session (or call).",
			target(`sum(rate(kradius_cdr_effects_total{instance=~"$instance", effect="cdr", result="applied"}[$__rate_interval]))`,
				"cdr"))).
		WithPanel(series("Settlement records/s", "short",
			"Settlement records written for finished calls.",
			target(`sum(rate(kradius_cdr_effects_total{instance=~"$instance", effect="settlement", result="applied"}[$__rate_interval]))`,
				"settlement"))).
		WithPanel(series("Dedupe hits/s by effect", "short",
			"Effects skipped as already done: a record appended again (a NAS retransmission) or consumed again after an aborted transaction.",
			target(`sum by (effect) (rate(kradius_cdr_effects_total{instance=~"$instance", result="duplicate"}[$__rate_interval]))`,
				"{{effect}}"))).
		WithPanel(series("Kafka transactions/s by outcome", "short",
			"committed; aborted: a failed batch or a group rebalance, whose records come again; failed: the session ended.",
			target(`sum by (result) (rate(kradius_cdr_transactions_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{result}}"))).
		WithRow(row("Journal")).
		WithPanel(series("Journal commit latency p50/p99", "s",
			"One group commit: the write and its fsync.",
			quantiles("kradius_journal_commit_seconds", `instance=~"$instance"`, "", true)...)).
		WithPanel(series("Records per commit", "short",
			"Records a group commit makes durable at once.",
			append(quantiles("kradius_journal_commit_records", `instance=~"$instance"`, "", false),
				target(`sum(rate(kradius_journal_commit_records_sum{instance=~"$instance"}[$__rate_interval]))
  / sum(rate(kradius_journal_commit_records_count{instance=~"$instance"}[$__rate_interval]))`, "mean"))...)).
		WithPanel(series("Journal records force-deleted", "short",
			"Records deleted by a journal's hard cap (max_bytes, cdr_max_bytes) before the consumer furthest behind had read them: lost to it.",
			target(`sum by (journal) (increase(kradius_journal_forced_deleted_records_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{journal}}")))
}
