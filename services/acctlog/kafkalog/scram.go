package kafkalog

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go/sasl"
)

// This is the client side of SCRAM (RFC 5802, RFC 7677) for kafka-go's
// sasl.Mechanism. kafka-go's own sasl/scram package needs
// github.com/xdg-go/scram, which this module does not require; the
// standard library has every primitive.
//
// Like Kafka's own clients, it sends the username and password without
// SASLprep normalisation: Kafka's brokers do not normalise either, so a
// non-ASCII password must be stored the way it is typed.

// minIterations is Kafka's own floor: a server asking for fewer, which
// could be someone in the middle making the proof cheap to attack offline,
// is refused.
const minIterations = 4096

type scram struct {
	name           string
	hash           func() hash.Hash
	user, password string
	// nonce is replaced in tests with the RFC's.
	nonce func() (string, error)
}

func newSCRAM(name string, h func() hash.Hash, user, password string) *scram {
	return &scram{name: name, hash: h, user: user, password: password, nonce: randomNonce}
}

func randomNonce() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("scram nonce: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

func (m *scram) Name() string { return m.name }

// Start sends the client-first message.
func (m *scram) Start(context.Context) (sasl.StateMachine, []byte, error) {
	nonce, err := m.nonce()
	if err != nil {
		return nil, nil, err
	}
	user := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(m.user)
	s := &scramSession{m: m, nonce: nonce, clientFirstBare: "n=" + user + ",r=" + nonce}
	return s, []byte("n,," + s.clientFirstBare), nil
}

// scramSession is one conversation: Next answers the server-first message
// with the proof, then checks the server's signature in the server-final.
type scramSession struct {
	m               *scram
	nonce           string
	clientFirstBare string
	serverSignature []byte // set once the proof is sent
}

func (s *scramSession) Next(_ context.Context, challenge []byte) (bool, []byte, error) {
	if s.serverSignature == nil {
		final, err := s.clientFinal(string(challenge))
		return false, final, err
	}
	return true, nil, s.verifyServer(string(challenge))
}

func (s *scramSession) clientFinal(serverFirst string) ([]byte, error) {
	attrs := scramAttrs(serverFirst)
	nonce, salt64, iterText := attrs["r"], attrs["s"], attrs["i"]
	if _, ok := attrs["m"]; ok {
		return nil, errors.New("scram: server requires an unsupported extension")
	}
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return nil, errors.New("scram: server nonce does not extend the client's")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return nil, errors.New("scram: server sent no valid salt")
	}
	iterations, err := strconv.Atoi(iterText)
	if err != nil || iterations < minIterations {
		return nil, fmt.Errorf("scram: server asks for %q iterations, fewer than %d", iterText, minIterations)
	}
	salted, err := pbkdf2.Key(s.m.hash, s.m.password, salt, iterations, s.m.hash().Size())
	if err != nil {
		return nil, fmt.Errorf("scram: %w", err)
	}
	withoutProof := "c=biws,r=" + nonce // biws is base64("n,,"), the GS2 header
	authMessage := []byte(s.clientFirstBare + "," + serverFirst + "," + withoutProof)

	clientKey := s.hmac(salted, []byte("Client Key"))
	h := s.m.hash()
	h.Write(clientKey)
	proof := s.hmac(h.Sum(nil), authMessage)
	subtle.XORBytes(proof, proof, clientKey)
	s.serverSignature = s.hmac(s.hmac(salted, []byte("Server Key")), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verifyServer proves that the server knows the password too, not merely
// that it let us in.
func (s *scramSession) verifyServer(serverFinal string) error {
	attrs := scramAttrs(serverFinal)
	if e, ok := attrs["e"]; ok {
		return fmt.Errorf("scram: server error %q", e)
	}
	sig, err := base64.StdEncoding.DecodeString(attrs["v"])
	if err != nil || !hmac.Equal(sig, s.serverSignature) {
		return errors.New("scram: the server's signature is wrong: it does not know the password")
	}
	return nil
}

func (s *scramSession) hmac(key, data []byte) []byte {
	mac := hmac.New(s.m.hash, key)
	mac.Write(data)
	return mac.Sum(nil)
}

// scramAttrs splits "k=v,k=v". Values may contain '=' (base64) but not ','.
func scramAttrs(msg string) map[string]string {
	attrs := map[string]string{}
	for _, kv := range strings.Split(msg, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && len(k) == 1 {
			attrs[k] = v
		}
	}
	return attrs
}
