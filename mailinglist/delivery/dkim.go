package delivery

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"github.com/emersion/go-msgauth/dkim"
	bolt "go.etcd.io/bbolt"
)

// keyBits is the size of the RSA keys made for DKIM.
const keyBits = 2048

// signedFields are the header fields a signature covers, in order.
var signedFields = []string{
	"From", "Subject", "Date", "Message-ID", "To", "Cc", "Reply-To",
	"In-Reply-To", "References", "MIME-Version", "Content-Type",
	"List-Id", "List-Post", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Archive", "List-Help", "List-Subscribe",
}

// overSigned says which of signedFields are listed once more than present,
// so that nobody can add one without breaking the signature.
func overSigned(name string) bool {
	return name == "From" || strings.HasPrefix(name, "List-")
}

// Keys holds the DKIM keys of the lists' domains, in the database. It is
// safe for concurrent use.
type Keys struct {
	db  *store.DB
	now func() time.Time

	mu      sync.Mutex         // guards signers, and serialises key creation
	signers map[string]*Signer // by normalised domain
}

// keyRecord is a domain's key as stored in list/dkim.
type keyRecord struct {
	Selector string    `json:"selector"`
	Created  time.Time `json:"created"`
	PKCS8    []byte    `json:"pkcs8"`
}

// NewKeys returns the keys kept in db, running their migrations.
func NewKeys(db *store.DB) (*Keys, error) {
	if db == nil {
		return nil, errors.New("dkim keys: no database")
	}
	if err := migrate(db); err != nil {
		return nil, fmt.Errorf("dkim keys: %w", err)
	}
	return &Keys{db: db, now: time.Now, signers: make(map[string]*Signer)}, nil
}

// Signer returns the signer of domain, creating its key (RSA 2048, selector
// "placette" and the year and month of creation, as "placette202611") at
// first use. Signers are cached: the key is parsed once.
func (k *Keys) Signer(domain string) (*Signer, error) {
	d := normDomain(domain)
	if d == "" || strings.ContainsAny(d, " \t\r\n;=") {
		return nil, fmt.Errorf("dkim signer: bad domain %q", domain)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.signers[d]; s != nil {
		return s, nil
	}
	var rec *keyRecord
	err := k.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = getKey(tx, d)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dkim signer of %s: %w", d, err)
	}
	if rec == nil {
		key, err := rsa.GenerateKey(rand.Reader, keyBits)
		if err != nil {
			return nil, fmt.Errorf("dkim signer of %s: make a key: %w", d, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("dkim signer of %s: %w", d, err)
		}
		created := k.now().UTC()
		fresh := &keyRecord{Selector: "placette" + created.Format("200601"), Created: created, PKCS8: der}
		err = k.db.Update(func(tx *bolt.Tx) error {
			// Another process could not have written meanwhile (bbolt
			// locks the file), but keep the first key if one is there.
			old, err := getKey(tx, d)
			if err != nil || old != nil {
				rec = old
				return err
			}
			v, err := json.Marshal(fresh)
			if err != nil {
				return err
			}
			rec = fresh
			return tx.Bucket(dkimBucket).Put([]byte(d), v)
		})
		if err != nil {
			return nil, fmt.Errorf("dkim signer of %s: store the key: %w", d, err)
		}
	}
	s, err := newSigner(d, rec)
	if err != nil {
		return nil, fmt.Errorf("dkim signer of %s: %w", d, err)
	}
	k.signers[d] = s
	return s, nil
}

// getKey reads domain's key in tx; nil when there is none.
func getKey(tx *bolt.Tx, domain string) (*keyRecord, error) {
	b := tx.Bucket(dkimBucket)
	if b == nil {
		return nil, errors.New("no list/dkim bucket")
	}
	v := b.Get([]byte(domain))
	if v == nil {
		return nil, nil
	}
	var rec keyRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("read the key: %w", err)
	}
	return &rec, nil
}

// Signer signs messages with the DKIM key of one domain. It is safe for
// concurrent use.
type Signer struct {
	domain   string
	selector string
	key      *rsa.PrivateKey
	record   string
}

// newSigner parses rec's key.
func newSigner(domain string, rec *keyRecord) (*Signer, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(rec.PKCS8)
	if err != nil {
		return nil, fmt.Errorf("parse the key: %w", err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not RSA", parsed)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode the public key: %w", err)
	}
	return &Signer{
		domain:   domain,
		selector: rec.Selector,
		key:      key,
		record:   "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub),
	}, nil
}

// Sign returns msg (CRLF line endings) with a DKIM-Signature header field
// prepended: relaxed/relaxed, From, Subject, Date, Message-ID, To, Cc,
// Reply-To and the List-* fields signed, From and the List-* fields
// over-signed.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	ds, err := dkim.NewSigner(&dkim.SignOptions{
		Domain:                 s.domain,
		Selector:               s.selector,
		Signer:                 s.key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             headerKeys(msg),
	})
	if err != nil {
		return nil, fmt.Errorf("dkim sign for %s: %w", s.domain, err)
	}
	if _, err := ds.Write(msg); err != nil {
		_ = ds.Close() // The write error is the one to report.
		return nil, fmt.Errorf("dkim sign for %s: %w", s.domain, err)
	}
	if err := ds.Close(); err != nil {
		return nil, fmt.Errorf("dkim sign for %s: %w", s.domain, err)
	}
	sig := ds.Signature()
	out := make([]byte, 0, len(sig)+len(msg))
	out = append(out, sig...)
	return append(out, msg...), nil
}

// headerKeys returns the h= list of a signature of msg: each signed field
// as many times as msg has it, the over-signed ones once more.
func headerKeys(msg []byte) []string {
	counts := make(map[string]int, len(signedFields))
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break // end of the header
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if name, _, ok := bytes.Cut(line, []byte(":")); ok {
			counts[strings.ToLower(string(bytes.TrimRight(name, " \t")))]++
		}
	}
	keys := make([]string, 0, 2*len(signedFields))
	for _, f := range signedFields {
		n := counts[strings.ToLower(f)]
		if overSigned(f) {
			n++
		}
		for range n {
			keys = append(keys, f)
		}
	}
	return keys
}

// Selector returns the DKIM selector of the key.
func (s *Signer) Selector() string { return s.selector }

// Domain returns the domain the signer signs for (lower case).
func (s *Signer) Domain() string { return s.domain }

// DNSRecord returns the TXT record to publish at
// SELECTOR._domainkey.DOMAIN ("v=DKIM1; k=rsa; p=…"). It is longer than
// 255 bytes: DNS servers split it into several strings of one record.
func (s *Signer) DNSRecord() string { return s.record }
