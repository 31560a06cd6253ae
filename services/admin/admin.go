// Package admin is the provisioning endpoint of a running kradius, which
// `kradius import` writes to. The CLI reads and checks the file and hashes
// its passwords, so clear-text passwords never cross the wire; the server
// applies the whole batch in one atomic store write.
//
// It is HTTP/JSON on a loopback listener for now; the gRPC admin service
// takes its place with the distributed services.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"kradius.dev/services/store"
)

// maxBody bounds one import: about three million accounts.
const maxBody = 1 << 30

// Batch is the wire form of store.Batch.
type Batch struct {
	Accounts []store.Account `json:"accounts"`
	DIDs     []store.DID     `json:"dids"`
}

// Result is what an import wrote.
type Result struct {
	Accounts int    `json:"accounts"`
	DIDs     int    `json:"dids"`
	Error    string `json:"error,omitempty"`
}

// Info tells the CLI the rules the store enforces, so that it checks the
// file the same way before sending it.
type Info struct {
	LongNames bool `json:"longNames"`
}

// Handler serves /v1/info and /v1/apply for st.
func Handler(st store.Store, opts store.Options, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/info", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, Info{LongNames: opts.LongNames})
	})
	mux.HandleFunc("POST /v1/apply", func(w http.ResponseWriter, r *http.Request) {
		var b Batch
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			writeJSON(w, http.StatusBadRequest, Result{Error: "decoding batch: " + err.Error()})
			return
		}
		err := st.Apply(r.Context(), store.Batch{Accounts: b.Accounts, DIDs: b.DIDs})
		status := http.StatusOK
		switch {
		case errors.Is(err, store.ErrInvalid):
			status = http.StatusBadRequest
		case errors.Is(err, store.ErrConflict):
			status = http.StatusConflict
		case err != nil:
			status = http.StatusServiceUnavailable
		}
		if err != nil {
			log.Warn("import refused", "accounts", len(b.Accounts), "dids", len(b.DIDs), "err", err)
			writeJSON(w, status, Result{Error: err.Error()})
			return
		}
		log.Info("import applied", "accounts", len(b.Accounts), "dids", len(b.DIDs))
		writeJSON(w, status, Result{Accounts: len(b.Accounts), DIDs: len(b.DIDs)})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Client talks to a running kradius's admin endpoint.
type Client struct {
	Base string // e.g. http://127.0.0.1:9813
	HTTP *http.Client
}

// NewClient returns a client for addr (host:port or a URL).
func NewClient(addr string) *Client {
	base := addr
	if !bytes.Contains([]byte(addr), []byte("://")) {
		base = "http://" + addr
	}
	return &Client{Base: base, HTTP: &http.Client{Timeout: 10 * time.Minute}}
}

// Info asks the server for its store rules.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var info Info
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/v1/info", nil)
	if err != nil {
		return info, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return info, fmt.Errorf("reaching kradius admin endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("kradius admin endpoint: %s", resp.Status)
	}
	return info, json.NewDecoder(resp.Body).Decode(&info)
}

// Apply sends a batch, written all or nothing.
func (c *Client) Apply(ctx context.Context, b store.Batch) (Result, error) {
	body, err := json.Marshal(Batch{Accounts: b.Accounts, DIDs: b.DIDs})
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/v1/apply", bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("reaching kradius admin endpoint: %w", err)
	}
	defer resp.Body.Close()
	var res Result
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &res); err != nil {
		return res, fmt.Errorf("kradius admin endpoint: %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("nothing imported: %s", res.Error)
	}
	return res, nil
}
