// Package kafkalog is the accounting log (package acctlog) on Kafka, through
// github.com/segmentio/kafka-go.
//
// The edge appends each Accounting-Request with an Appender, keyed by
// Acct-Session-Id, and answers the NAS only once Append returns nil: the
// record is then acknowledged by every in-sync replica (acks=all). The cdr
// target reads with a Consumer, a member of a consumer group, and commits
// only once a record's effects are done. kafka-go has no idempotent
// producer, so a retry can duplicate a record; consumers are idempotent.
//
// At start, call EnsureTopics: it creates or checks the topics, and proves
// that the brokers answer and accept the credentials.
package kafkalog
