package settlement

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Columns are the CSV header, and the JSON field names.
var Columns = []string{"period_start", "originating_carrier", "terminating_carrier", "calls", "seconds"}

// WriteCSV writes rows as CSV under the header Columns, which it writes
// even when there are no rows; period_start is RFC 3339 in UTC.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{
			r.PeriodStart.UTC().Format(time.RFC3339), r.Originating, r.Terminating,
			strconv.FormatUint(r.Calls, 10), strconv.FormatUint(r.Seconds, 10),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// jsonRow is a Row as WriteJSON writes it.
type jsonRow struct {
	PeriodStart string `json:"period_start"`
	Originating string `json:"originating_carrier"`
	Terminating string `json:"terminating_carrier"`
	Calls       uint64 `json:"calls"`
	Seconds     uint64 `json:"seconds"`
}

// WriteJSON writes rows as JSON lines: one object a row, with the CSV's
// column names as keys, period_start an RFC 3339 string in UTC and the
// totals numbers. No rows, no output.
func WriteJSON(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw) // each object on a line of its own
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(jsonRow{
			PeriodStart: r.PeriodStart.UTC().Format(time.RFC3339), Originating: r.Originating, Terminating: r.Terminating,
			Calls: r.Calls, Seconds: r.Seconds,
		}); err != nil {
			return err
		}
	}
	return bw.Flush()
}
