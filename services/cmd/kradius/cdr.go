package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/rpc"
)

const cdrUsage = `usage:
  kradius cdr tail   [-f] [-reader NAME] [-o json|csv] [source]
  kradius cdr export -from TIME -to TIME [-reader NAME] [-o json|csv] [source]

Finished sessions' CDRs, for billing: tail prints those the reader has not
read (with -f, then waits for more); export prints those whose Stop arrived
in [from, to) (RFC 3339 times). Either commits the reader's position once
the CDRs are written, so that the next run goes on after them: a reader is
registered by its first run, and in -target=all retention keeps every CDR
it has not read.

source: -admin HOST:PORT, the admin endpoint of -target=all (the CDR
journal), or -brokers HOST:PORT,... for kradius.cdr.v1 on Kafka, read
committed (the reader is the consumer group kradius-cdr-reader-NAME).
`

// cdrItem is a CDR and where it was read.
type cdrItem struct {
	cdr    *accountingv1.CDR
	offset int64 // journal offset; -1 on Kafka
}

// cdrSource is where the CDRs come from.
type cdrSource interface {
	// next returns the next CDRs, waiting up to wait for the first, and
	// whether the reader has read everything there was when it started.
	next(ctx context.Context, wait time.Duration) ([]cdrItem, bool, error)
	// commit records that everything next returned is handled.
	commit(ctx context.Context) error
	close()
}

func runCDR(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "tail" && args[0] != "export") {
		fmt.Fprint(stderr, cdrUsage)
		return 2
	}
	verb := args[0]
	prog := "kradius cdr " + verb
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, cdrUsage); fs.PrintDefaults() }
	addr, tlsCfg := adminFlags(fs)
	brokers := fs.String("brokers", "", "Kafka bootstrap brokers, comma-separated: read kradius.cdr.v1 from Kafka instead of the admin endpoint")
	topic := fs.String("topic", kafkalog.DefaultCDRTopic, "the CDR topic, with -brokers")
	reader := fs.String("reader", "kradius-cli", "the reader whose position is kept")
	format := fs.String("o", "json", "output: json (one CDR per line, the API's JSON names) or csv (the common fields, with a header)")
	follow := fs.Bool("f", false, "tail: after the CDRs there are, wait for more until interrupted")
	fromText := fs.String("from", "", "export: the first Stop time, RFC 3339")
	toText := fs.String("to", "", "export: the end, RFC 3339, excluded")
	if _, err := parseInterleaved(fs, args[1:]); err != nil {
		return 2
	}
	if *format != "json" && *format != "csv" {
		fmt.Fprintf(stderr, "%s: -o %q: want json or csv\n", prog, *format)
		return 2
	}
	var from, to time.Time
	if verb == "export" {
		var err error
		if from, err = time.Parse(time.RFC3339, *fromText); err != nil {
			fmt.Fprintf(stderr, "%s: -from %q: want an RFC 3339 time such as 2026-12-01T00:00:00Z\n", prog, *fromText)
			return 2
		}
		if to, err = time.Parse(time.RFC3339, *toText); err != nil || !to.After(from) {
			fmt.Fprintf(stderr, "%s: -to %q: want an RFC 3339 time after -from\n", prog, *toText)
			return 2
		}
		if *follow {
			fmt.Fprintf(stderr, "%s: -f is for tail\n", prog)
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var src cdrSource
	var err error
	if *brokers != "" {
		src, err = newKafkaCDRs(ctx, strings.Split(*brokers, ","), *topic, *reader)
	} else {
		src, err = newJournalCDRs(*addr, *tlsCfg, *reader)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	defer src.close()

	out := newCDRWriter(stdout, *format)
	for {
		wait := time.Duration(0)
		if *follow {
			wait = 5 * time.Second
		}
		items, caughtUp, err := src.next(ctx, wait)
		if ctx.Err() != nil {
			return 0 // interrupted: what was written is committed
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
		for _, it := range items {
			if verb == "export" {
				at := it.cdr.GetStopReceived().AsTime()
				if at.Before(from) || !at.Before(to) {
					continue
				}
			}
			if err := out.write(it.cdr); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", prog, err)
				return 1
			}
		}
		if err := out.flush(); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
		if len(items) > 0 {
			// Only once the CDRs are written: a reader killed before this
			// gets them again.
			if err := src.commit(ctx); err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "%s: committing the reader's position: %v\n", prog, err)
				return 1
			}
		}
		if caughtUp && !*follow {
			return 0
		}
	}
}

// cdrWriter prints CDRs as JSON lines or CSV.
type cdrWriter struct {
	w   io.Writer
	csv *csv.Writer
}

func newCDRWriter(w io.Writer, format string) *cdrWriter {
	cw := &cdrWriter{w: w}
	if format == "csv" {
		cw.csv = csv.NewWriter(w)
		// Written even when no CDR follows, so that an empty export is
		// still a CSV file with its columns.
		_ = cw.csv.Write(cdrColumns)
	}
	return cw
}

var cdrColumns = []string{"session_id", "profile", "account", "nas_client", "nas_address", "stop_received", "session_time", "calling_station_id", "called_station_id", "terminate_cause", "input_octets", "output_octets"}

func (cw *cdrWriter) write(c *accountingv1.CDR) error {
	if cw.csv == nil {
		b, err := protojson.Marshal(c)
		if err != nil {
			return err
		}
		// protojson's spacing is deliberately unstable: compact it.
		var line bytes.Buffer
		if err := json.Compact(&line, b); err != nil {
			return err
		}
		line.WriteByte('\n')
		_, err = cw.w.Write(line.Bytes())
		return err
	}
	stop := ""
	if c.GetStopReceived() != nil {
		stop = c.GetStopReceived().AsTime().UTC().Format(time.RFC3339Nano)
	}
	return cw.csv.Write([]string{
		c.GetSessionId(), c.GetProfile(), c.GetAccount(), c.GetNasClient(), c.GetNasAddress(), stop,
		strconv.FormatUint(uint64(c.GetSessionTime()), 10), c.GetCallingStationId(), c.GetCalledStationId(),
		strconv.FormatUint(uint64(c.GetTerminateCause()), 10), strconv.FormatUint(c.GetInputOctets(), 10), strconv.FormatUint(c.GetOutputOctets(), 10),
	})
}

func (cw *cdrWriter) flush() error {
	if cw.csv == nil {
		return nil
	}
	cw.csv.Flush()
	return cw.csv.Error()
}

// journalCDRs reads -target=all's CDR journal through the admin endpoint.
type journalCDRs struct {
	conn    interface{ Close() error }
	c       adminv1.AdminServiceClient
	reader  string
	resumed bool
	last    int64 // offset of the last CDR returned; -1 for none
}

func newJournalCDRs(addr string, tlsCfg rpc.TLSConfig, reader string) (*journalCDRs, error) {
	conn, err := rpc.Dial(addr, tlsCfg)
	if err != nil {
		return nil, err
	}
	return &journalCDRs{conn: conn, c: adminv1.NewAdminServiceClient(conn), reader: reader, last: -1}, nil
}

func (j *journalCDRs) next(ctx context.Context, wait time.Duration) ([]cdrItem, bool, error) {
	cctx, cancel := context.WithTimeout(ctx, wait+callTimeout)
	defer cancel()
	r, err := j.c.ReadCDRs(cctx, &adminv1.ReadCDRsRequest{Reader: j.reader, Resume: !j.resumed, Wait: durationpb.New(wait)})
	if err != nil {
		return nil, false, fmt.Errorf("admin service: %w", err)
	}
	j.resumed = true
	items := make([]cdrItem, len(r.GetCdrs()))
	for i, c := range r.GetCdrs() {
		items[i] = cdrItem{cdr: c.GetCdr(), offset: c.GetOffset()}
		j.last = c.GetOffset()
	}
	caughtUp := len(items) == 0 || j.last+1 >= r.GetEnd()
	return items, caughtUp, nil
}

func (j *journalCDRs) commit(ctx context.Context) error {
	if j.last < 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := j.c.CommitCDRs(cctx, &adminv1.CommitCDRsRequest{Reader: j.reader, Offset: j.last})
	return err
}

func (j *journalCDRs) close() { _ = j.conn.Close() }

// kafkaCDRs reads kradius.cdr.v1 read_committed as the consumer group
// kradius-cdr-reader-<reader>.
type kafkaCDRs struct {
	cl    *kgo.Client
	topic string
	end   map[int32]int64 // the last stable offsets when the reader started
	pos   map[int32]int64 // the next offset of each partition to read
}

func newKafkaCDRs(ctx context.Context, brokers []string, topic, reader string) (*kafkaCDRs, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumerGroup("kradius-cdr-reader-"+reader),
		kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers take offsets too: kept, so that the reader
		// can tell it has reached the end.
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	k := &kafkaCDRs{cl: cl, topic: topic}
	if k.end, err = stableEnd(ctx, cl, topic); err != nil {
		cl.Close()
		return nil, err
	}
	if k.pos, err = committed(ctx, cl, "kradius-cdr-reader-"+reader, topic, k.end); err != nil {
		cl.Close()
		return nil, err
	}
	return k, nil
}

// committed is the group's committed offset per partition of topic (the
// keys of partitions).
func committed(ctx context.Context, cl *kgo.Client, group, topic string, partitions map[int32]int64) (map[int32]int64, error) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("kafka: the position of group %s: %w", group, err)
	}
	pos := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode == 0 && p.Offset >= 0 {
				pos[p.Partition] = p.Offset
			}
		}
	}
	return pos, nil
}

// stableEnd is the topic's last stable offset per partition: where a
// read_committed reader stops.
func stableEnd(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mr, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("kafka metadata of %s: %w", topic, err)
	}
	if len(mr.Topics) != 1 || len(mr.Topics[0].Partitions) == 0 {
		return nil, fmt.Errorf("kafka: topic %s not found", topic)
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = 1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range mr.Topics[0].Partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p.Partition, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("kafka end offsets of %s: %w", topic, err)
	}
	end := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			end[p.Partition] = p.Offset
		}
	}
	return end, nil
}

func (k *kafkaCDRs) caughtUp() bool {
	for p, e := range k.end {
		if e > 0 && k.pos[p] < e {
			return false
		}
	}
	return true
}

func (k *kafkaCDRs) next(ctx context.Context, wait time.Duration) ([]cdrItem, bool, error) {
	if wait == 0 && k.caughtUp() {
		return nil, true, nil
	}
	// The group's committed position is fetched as the poll starts: a
	// reader starting mid-topic is caught up once past the end.
	pctx, cancel := context.WithTimeout(ctx, max(wait, callTimeout))
	defer cancel()
	fetches := k.cl.PollRecords(pctx, 1000)
	if err := fetches.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, false, fmt.Errorf("kafka fetch from %s: %w", k.topic, err)
	}
	var items []cdrItem
	for _, r := range fetches.Records() {
		k.pos[r.Partition] = r.Offset + 1
		if r.Attrs.IsControl() {
			continue
		}
		c := new(accountingv1.CDR)
		if err := proto.Unmarshal(r.Value, c); err != nil {
			return nil, false, fmt.Errorf("CDR at %s/%d/%d: %w", k.topic, r.Partition, r.Offset, err)
		}
		items = append(items, cdrItem{cdr: c, offset: -1})
	}
	return items, k.caughtUp(), nil
}

func (k *kafkaCDRs) commit(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return k.cl.CommitUncommittedOffsets(cctx)
}

func (k *kafkaCDRs) close() { k.cl.Close() }
