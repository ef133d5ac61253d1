package workers_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/mail"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afesip/homeward/web/emails"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
)

// smtpServer is a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port, as the tests' peer: it offers STARTTLS with a self-signed
// certificate (the client trusts it through TLSConfig), and AUTH PLAIN only
// after STARTTLS. It records every message it accepted.
type smtpServer struct {
	t         *testing.T
	addr      string
	user      string
	password  string
	TLSConfig *tls.Config // for the client: trusts the server's certificate

	mu        sync.Mutex
	accepted  []receivedMail
	datas     int // DATA commands received
	concluded int // DATA commands answered (accepted, refused, or the connection lost)
	// rcpt, when set, may refuse a recipient (nil accepts).
	rcpt func(to string) error
}

// receivedMail is one accepted message.
type receivedMail struct {
	from   string
	to     []string
	header mail.Header
	raw    []byte
	tls    bool
	authed bool
}

func startSMTPServer(t *testing.T) *smtpServer { return newSMTPServer(t, true) }

// startPlainSMTPServer is a server that offers no STARTTLS (and so allows
// AUTH in plain text).
func startPlainSMTPServer(t *testing.T) *smtpServer { return newSMTPServer(t, false) }

func newSMTPServer(t *testing.T, offerTLS bool) *smtpServer {
	t.Helper()
	cert, pool := selfSignedCert(t)
	s := &smtpServer{t: t, user: "homeward", password: "s3cret-" + randomHex(4),
		TLSConfig: &tls.Config{RootCAs: pool}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	if !offerTLS {
		srv.TLSConfig, srv.AllowInsecureAuth = nil, true
	}
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.ErrorLog = discardLog{}
	l := listenLoopback(t)
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is the server's HOMEWARD_SMTP_URL.
func (s *smtpServer) URL() *url.URL {
	return &url.URL{Scheme: "smtp", User: url.UserPassword(s.user, s.password), Host: s.addr}
}

// received returns the accepted messages and the number of DATA commands.
func (s *smtpServer) received() ([]receivedMail, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.accepted...), s.datas
}

// dataConcluded is the number of DATA commands the server has finished
// with, whatever the outcome.
func (s *smtpServer) dataConcluded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.concluded
}

type smtpSession struct {
	srv    *smtpServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != ss.srv.user || password != ss.srv.password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.srv.mu.Lock()
	rcpt := ss.srv.rcpt
	ss.srv.mu.Unlock()
	if rcpt != nil {
		if err := rcpt(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data reads the whole message, up to the end-of-data mark: a connection
// lost before it fails the read, and the message is discarded, as a real
// server does.
func (ss *smtpSession) Data(r io.Reader) error {
	ss.srv.mu.Lock()
	ss.srv.datas++
	ss.srv.mu.Unlock()
	defer func() {
		ss.srv.mu.Lock()
		ss.srv.concluded++
		ss.srv.mu.Unlock()
	}()
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "not a message"}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.srv.mu.Lock()
	ss.srv.accepted = append(ss.srv.accepted, receivedMail{from: ss.from, to: ss.to, header: msg.Header, raw: raw, tls: isTLS, authed: ss.authed})
	ss.srv.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

// selfSignedCert makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "homeward test SMTP server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// slowLink is the client's side of a connection whose next large write
// (the message's content: SMTP commands are short) takes delay to go out,
// once armed: a slow network in the middle of DATA.
type slowLink struct {
	net.Conn
	armed   *atomic.Bool
	stalled chan<- struct{}
	delay   time.Duration
}

func (c *slowLink) Write(b []byte) (int, error) {
	if len(b) > 1024 && c.armed.CompareAndSwap(true, false) {
		close(c.stalled)
		time.Sleep(c.delay)
	}
	return c.Conn.Write(b)
}

type discardLog struct{}

func (discardLog) Printf(string, ...any) {}
func (discardLog) Println(...any)        {}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testMessage is a rendered mail for tests of the sender alone.
func testMessage() *emails.Message {
	return &emails.Message{
		MessageID: "<" + uuid.NewString() + "@homeward>", From: "no-reply@homeward.test", To: "someone@example.org",
		Language: "en", Date: time.Now(), Rendered: emails.Rendered{Subject: "Test", Text: "Test\n"},
	}
}
