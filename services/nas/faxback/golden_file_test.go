package faxback

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"layeh.com/radius"
)

// golden is one of the seed's example exchanges, from testdata/golden. The
// files are transcribed from the manual; they are never regenerated.
type golden struct {
	request    []byte
	replyCode  radius.Code
	replyAttrs []byte
}

func readGolden(t testing.TB, name string) golden {
	t.Helper()
	f, err := os.ReadFile(filepath.Join("testdata", "golden", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	var reqHex, replyHex strings.Builder
	out := &reqHex
	for sc := bufio.NewScanner(bytes.NewReader(f)); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#") || line == "":
		case line == "request:":
			out = &reqHex
		case strings.HasPrefix(line, "reply: "):
			code, err := strconv.Atoi(strings.TrimPrefix(line, "reply: "))
			if err != nil {
				t.Fatalf("%s: %q", name, line)
			}
			g.replyCode = radius.Code(code)
			out = &replyHex
		default:
			out.WriteString(strings.ReplaceAll(line, " ", ""))
		}
	}
	if g.request, err = hex.DecodeString(reqHex.String()); err != nil {
		t.Fatalf("%s request: %v", name, err)
	}
	if g.replyAttrs, err = hex.DecodeString(replyHex.String()); err != nil {
		t.Fatalf("%s reply: %v", name, err)
	}
	return g
}
