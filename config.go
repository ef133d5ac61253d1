package homeward

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Modes. Demo is the embedded default: SQLite, an in-process Redis-compatible
// server, built-in mailbox and demo data. Production refuses every demo part.
const (
	ModeDemo       = "demo"
	ModeProduction = "production"
)

// Database drivers.
const (
	DriverPostgres = "postgres"
	DriverSQLite   = "sqlite"
)

// Config is everything read from the environment. It is built once by
// LoadConfig and passed to whatever needs it; nothing reads the environment
// anywhere else.
type Config struct {
	Mode    string
	Addr    string
	BaseURL *url.URL
	DataDir string

	// DatabaseDriver is DriverPostgres or DriverSQLite.
	DatabaseDriver string
	// DatabaseURL is the app role's connection (PostgreSQL) or the SQLite file.
	DatabaseURL string
	// DatabaseOwnerURL is the owner's connection, used by migrate only.
	DatabaseOwnerURL string

	// RedisURL is empty in demo mode: an in-process server is started instead.
	RedisURL string

	MasterKey         []byte
	MasterKeyPrevious []byte

	// SMTPURL is nil in demo mode: mail is kept in the built-in mailbox.
	SMTPURL  *url.URL
	MailFrom string

	// BlobURL is where documents are stored (gocloud.dev/blob): file:///PATH
	// (a folder on one server; by default DATA_DIR/documents) or
	// s3://BUCKET?endpoint=...&region=...&use_path_style=true. The contents
	// are encrypted before they are written (tenants.StoreDocument).
	BlobURL string

	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed when telling clients apart (rate limiting).
	TrustedProxies []netip.Prefix

	// OperatorSignIn is the platform operators' own OpenID provider
	// (HOMEWARD_OPERATOR_*), through which they sign in to the browser at
	// /login?operator=1. Nil when not configured: operators then work from
	// the command line and with platform API tokens only (demo serve uses
	// the demo provider's operator client instead).
	OperatorSignIn *OperatorSignIn

	LogLevel slog.Level
}

// OperatorSignIn is the platform-level OpenID provider of the platform
// operators: someone whose ID token, verified like an organisation's, lists
// Group in its GroupsClaim signs in as platform_operator, with no
// organisation.
type OperatorSignIn struct {
	Issuer       string // HOMEWARD_OPERATOR_ISSUER, exactly as the provider's ID tokens name it
	ClientID     string // HOMEWARD_OPERATOR_CLIENT_ID
	ClientSecret string // HOMEWARD_OPERATOR_CLIENT_SECRET; "" for a public client (PKCE only)
	GroupsClaim  string // HOMEWARD_OPERATOR_GROUPS_CLAIM, by default "groups"
	Group        string // HOMEWARD_OPERATOR_GROUP: the group that makes someone a platform operator
}

// operatorGroupsClaim is the claim name syntax (tenants' groups claims too).
var operatorGroupsClaim = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,100}$`)

// Demo reports whether demo-only parts may run.
func (c *Config) Demo() bool { return c.Mode == ModeDemo }

// MasterKeyFile is where demo mode keeps its generated master key.
func (c *Config) MasterKeyFile() string { return filepath.Join(c.DataDir, "master.key") }

// secrets may also be given as NAME_FILE, the path of a file holding the value.
var secrets = []string{
	"HOMEWARD_DATABASE_URL", "HOMEWARD_DATABASE_OWNER_URL", "HOMEWARD_REDIS_URL",
	"HOMEWARD_MASTER_KEY", "HOMEWARD_MASTER_KEY_PREVIOUS", "HOMEWARD_SMTP_URL",
	"HOMEWARD_OPERATOR_CLIENT_SECRET",
}

// LoadConfig reads the configuration from getenv. In demo mode it creates the
// data directory and, when no master key is given, generates one into it
// (warnings are returned for the caller to log). Every problem is reported at
// once, as an EINVALID *Error whose fields are the variable names.
func LoadConfig(getenv func(string) string) (*Config, []string, error) {
	var warnings []string
	problems := FieldErrors{}
	env := map[string]string{}
	get := func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		v := strings.TrimSpace(getenv(name))
		env[name] = v
		return v
	}
	for _, name := range secrets {
		direct, file := strings.TrimSpace(getenv(name)), strings.TrimSpace(getenv(name+"_FILE"))
		switch {
		case direct != "" && file != "":
			problems.Add(name, "set either "+name+" or "+name+"_FILE, not both")
		case file != "":
			b, err := os.ReadFile(file)
			if err != nil {
				problems.Add(name+"_FILE", "expected a readable file holding the value: "+errors.Unwrap(err).Error())
			}
			env[name] = strings.TrimSpace(string(b))
		default:
			env[name] = direct
		}
	}

	c := &Config{}
	c.Mode = get("HOMEWARD_MODE")
	switch c.Mode {
	case "":
		c.Mode = ModeProduction
		if get("HOMEWARD_DATABASE_URL") == "" {
			c.Mode = ModeDemo
		}
	case ModeDemo, ModeProduction:
	default:
		problems.Add("HOMEWARD_MODE", fmt.Sprintf("expected %q or %q, got %q", ModeDemo, ModeProduction, c.Mode))
	}
	prod := c.Mode == ModeProduction

	c.Addr = get("HOMEWARD_ADDR")
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		problems.Add("HOMEWARD_ADDR", fmt.Sprintf("expected host:port such as 127.0.0.1:8080 or :8080, got %q", c.Addr))
	}

	c.DataDir = get("HOMEWARD_DATA_DIR")
	if c.DataDir == "" {
		c.DataDir = "homeward-data"
	}

	c.BlobURL = get("HOMEWARD_BLOB_URL")
	if c.BlobURL == "" {
		c.BlobURL = fileURL(filepath.Join(c.DataDir, "documents"))
	} else if reason := checkBlobURL(c.BlobURL); reason != "" {
		problems.Add("HOMEWARD_BLOB_URL", reason)
	}

	base := get("HOMEWARD_BASE_URL")
	switch {
	case base == "" && prod:
		problems.Add("HOMEWARD_BASE_URL", "required in production: the https address people use, such as https://homeward.example.org")
	case base == "":
		host, port, _ := net.SplitHostPort(c.Addr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
	default:
		u, err := url.Parse(base)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			problems.Add("HOMEWARD_BASE_URL", fmt.Sprintf("expected an absolute http(s) URL, got %q", base))
		case prod && u.Scheme != "https":
			problems.Add("HOMEWARD_BASE_URL", "expected an https URL in production")
		default:
			u.Path = strings.TrimSuffix(u.Path, "/")
			c.BaseURL = u
		}
	}

	dbURL := get("HOMEWARD_DATABASE_URL")
	switch {
	case dbURL == "" && prod:
		problems.Add("HOMEWARD_DATABASE_URL", "required in production: postgres://homeward_app:PASSWORD@HOST/DB")
	case dbURL == "":
		c.DatabaseDriver, c.DatabaseURL = DriverSQLite, filepath.Join(c.DataDir, "homeward.db")
	case strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://"):
		if u, err := url.Parse(dbURL); err != nil || u.Host == "" || u.User.Username() == "" {
			problems.Add("HOMEWARD_DATABASE_URL", "expected postgres://ROLE:PASSWORD@HOST/DB with a role name")
		}
		c.DatabaseDriver, c.DatabaseURL = DriverPostgres, dbURL
	case strings.HasPrefix(dbURL, "sqlite:") && !prod:
		c.DatabaseDriver, c.DatabaseURL = DriverSQLite, strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//")
	default:
		want := "a postgres:// URL"
		if !prod {
			want += " or sqlite:PATH"
		}
		problems.Add("HOMEWARD_DATABASE_URL", "expected "+want)
	}
	c.DatabaseOwnerURL = get("HOMEWARD_DATABASE_OWNER_URL")
	if c.DatabaseOwnerURL != "" && c.DatabaseDriver == DriverPostgres &&
		!strings.HasPrefix(c.DatabaseOwnerURL, "postgres://") && !strings.HasPrefix(c.DatabaseOwnerURL, "postgresql://") {
		problems.Add("HOMEWARD_DATABASE_OWNER_URL", "expected a postgres:// URL for the role that owns the schema")
	}

	c.RedisURL = get("HOMEWARD_REDIS_URL")
	switch {
	case c.RedisURL == "" && prod:
		problems.Add("HOMEWARD_REDIS_URL", "required in production: redis://[:PASSWORD@]HOST:6379/0 or rediss://...")
	case c.RedisURL != "":
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			problems.Add("HOMEWARD_REDIS_URL", "expected redis://[:PASSWORD@]HOST:PORT/DB or rediss://...")
		}
	}

	key := get("HOMEWARD_MASTER_KEY")
	switch {
	case key == "" && prod:
		problems.Add("HOMEWARD_MASTER_KEY", "required in production: 32 random bytes in standard base64 (openssl rand -base64 32)")
	case key != "":
		k, reason := decodeKey(key)
		if reason != "" {
			problems.Add("HOMEWARD_MASTER_KEY", reason)
		}
		c.MasterKey = k
	}
	if prev := get("HOMEWARD_MASTER_KEY_PREVIOUS"); prev != "" {
		k, reason := decodeKey(prev)
		if reason != "" {
			problems.Add("HOMEWARD_MASTER_KEY_PREVIOUS", reason)
		}
		c.MasterKeyPrevious = k
	}

	if s := get("HOMEWARD_SMTP_URL"); s != "" {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "smtp" || u.Hostname() == "" || u.Port() == "" {
			problems.Add("HOMEWARD_SMTP_URL", "expected smtp://USER:PASSWORD@HOST:PORT (STARTTLS is used)")
		} else {
			c.SMTPURL = u
		}
	} else if prod {
		problems.Add("HOMEWARD_SMTP_URL", "required in production: smtp://USER:PASSWORD@HOST:PORT")
	}
	c.MailFrom = get("HOMEWARD_MAIL_FROM")
	switch {
	case c.MailFrom == "" && prod:
		problems.Add("HOMEWARD_MAIL_FROM", "required in production: the sender address, such as Homeward <no-reply@example.org>")
	case c.MailFrom == "":
		c.MailFrom = "Homeward demo <no-reply@homeward.invalid>"
	default:
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			problems.Add("HOMEWARD_MAIL_FROM", "expected an e-mail address such as Homeward <no-reply@example.org>")
		}
	}

	for _, p := range strings.Split(get("HOMEWARD_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			if addr, aerr := netip.ParseAddr(p); aerr == nil {
				prefix, err = addr.Prefix(addr.BitLen())
			}
		}
		if err != nil {
			problems.Add("HOMEWARD_TRUSTED_PROXIES", fmt.Sprintf("expected comma-separated addresses or CIDR ranges such as 10.0.0.0/8, got %q", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}

	c.OperatorSignIn = loadOperatorSignIn(get, prod, problems)

	switch lvl := strings.ToLower(get("HOMEWARD_LOG_LEVEL")); lvl {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		problems.Add("HOMEWARD_LOG_LEVEL", fmt.Sprintf("expected debug, info, warn or error, got %q", lvl))
	}

	if len(problems) > 0 {
		return nil, nil, &Error{Code: EINVALID, Message: "the configuration is not valid (README.md, Configuration, lists every variable)", Fields: problems}
	}
	if c.Demo() {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, nil, Invalid(map[string]string{"HOMEWARD_DATA_DIR": "expected a directory Homeward can create and write: " + err.Error()})
		}
		if c.MasterKey == nil {
			k, created, err := demoMasterKey(c.MasterKeyFile())
			if err != nil {
				return nil, nil, Invalid(map[string]string{"HOMEWARD_MASTER_KEY": err.Error()})
			}
			if created {
				warnings = append(warnings, "demo mode: generated a master key into "+c.MasterKeyFile()+"; set HOMEWARD_MASTER_KEY for any real data")
			}
			c.MasterKey = k
		}
	}
	return c, warnings, nil
}

// loadOperatorSignIn reads HOMEWARD_OPERATOR_*: all optional, but once the
// issuer is set the client id and the group are required, and none of the
// others may be set without it (a half-configured sign-in is a mistake to
// report, not to ignore).
func loadOperatorSignIn(get func(string) string, prod bool, problems FieldErrors) *OperatorSignIn {
	o := &OperatorSignIn{
		Issuer:       get("HOMEWARD_OPERATOR_ISSUER"),
		ClientID:     get("HOMEWARD_OPERATOR_CLIENT_ID"),
		ClientSecret: get("HOMEWARD_OPERATOR_CLIENT_SECRET"),
		GroupsClaim:  get("HOMEWARD_OPERATOR_GROUPS_CLAIM"),
		Group:        get("HOMEWARD_OPERATOR_GROUP"),
	}
	if o.Issuer == "" {
		var set []string
		for _, name := range []string{"HOMEWARD_OPERATOR_CLIENT_ID", "HOMEWARD_OPERATOR_CLIENT_SECRET", "HOMEWARD_OPERATOR_GROUPS_CLAIM", "HOMEWARD_OPERATOR_GROUP"} {
			if get(name) != "" {
				set = append(set, name)
			}
		}
		if len(set) > 0 {
			problems.Add("HOMEWARD_OPERATOR_ISSUER", "required when "+strings.Join(set, ", ")+" is set: the platform operators' OpenID provider, such as https://login.example.org/realms/operators")
		}
		return nil
	}
	want := "expected the https URL of the platform operators' OpenID provider, exactly as its ID tokens name it (no query or fragment)"
	if !prod {
		want = "expected the http(s) URL of the platform operators' OpenID provider, exactly as its ID tokens name it (no query or fragment)"
	}
	u, err := url.Parse(o.Issuer)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || len(o.Issuer) > 500:
		problems.Add("HOMEWARD_OPERATOR_ISSUER", want)
	case u.Scheme == "https", u.Scheme == "http" && !prod:
	default:
		problems.Add("HOMEWARD_OPERATOR_ISSUER", want)
	}
	if o.ClientID == "" || len(o.ClientID) > 500 {
		problems.Add("HOMEWARD_OPERATOR_CLIENT_ID", "required with HOMEWARD_OPERATOR_ISSUER: the client id Homeward has at that provider")
	}
	if len(o.ClientSecret) > 2000 {
		problems.Add("HOMEWARD_OPERATOR_CLIENT_SECRET", "at most 2000 characters")
	}
	if o.GroupsClaim == "" {
		o.GroupsClaim = "groups"
	} else if !operatorGroupsClaim.MatchString(o.GroupsClaim) {
		problems.Add("HOMEWARD_OPERATOR_GROUPS_CLAIM", "expected a claim name such as groups (letters, digits, _ . : / -)")
	}
	if o.Group == "" || len(o.Group) > 200 {
		problems.Add("HOMEWARD_OPERATOR_GROUP", "required with HOMEWARD_OPERATOR_ISSUER: the provider group whose members are platform operators (at most 200 characters)")
	}
	return o
}

// fileURL is the file:// URL of a folder, made absolute (a relative path
// would be read as a host name).
func fileURL(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
}

// checkBlobURL explains what is wrong with HOMEWARD_BLOB_URL, "" when nothing.
// The memory store (mem://) is for tests only and refused here.
func checkBlobURL(s string) string {
	const want = "expected file:///ABSOLUTE/PATH (a folder on one server) or s3://BUCKET?endpoint=https://HOST&region=REGION&use_path_style=true (S3-compatible storage)"
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return want
	case u.Scheme == "file" && u.Host == "." && u.Path != "":
		return "" // file://./relative/path
	case u.Scheme == "file" && (u.Host == "" || u.Host == "localhost") && strings.HasPrefix(u.Path, "/") && u.Path != "/":
		return ""
	case u.Scheme == "file":
		return want + "; a file URL needs three slashes before an absolute path"
	case u.Scheme == "s3" && u.Host != "":
		return ""
	}
	return want
}

func decodeKey(s string) ([]byte, string) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, "expected standard base64 (openssl rand -base64 32)"
	}
	if len(k) != 32 {
		return nil, fmt.Sprintf("expected 32 random bytes in standard base64, got %d bytes", len(k))
	}
	return k, ""
}

// demoMasterKey reads the demo key file, creating it on first use.
func demoMasterKey(path string) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, reason := decodeKey(strings.TrimSpace(string(b)))
		if reason != "" {
			return nil, false, fmt.Errorf("the demo key file %s is damaged: %s", path, reason)
		}
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("cannot read the demo key file %s: %w", path, err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, false, err
	}
	// Write a temporary file, then link it into place: the link fails when
	// another process created the key first, and nobody reads a half-written key.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master.key-*")
	if err != nil {
		return nil, false, fmt.Errorf("cannot create the demo key file in %s: %w", filepath.Dir(path), err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, false, fmt.Errorf("cannot write the demo key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return demoMasterKey(path)
	} else if err != nil {
		return nil, false, fmt.Errorf("cannot create the demo key file %s: %w", path, err)
	}
	return k, true, nil
}
