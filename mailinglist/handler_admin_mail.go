package mailinglist

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/delivery"
)

// dnsTimeout bounds the DNS lookups of the mail page, all domains
// together.
const dnsTimeout = 10 * time.Second

// relayForm is the relay settings form, as typed. The password is never
// sent back to the browser.
type relayForm struct {
	Way      string
	Host     string
	Port     string
	Username string
	VERP     bool
}

// relayPorts are the ports a smarthost is reached on: submission with
// STARTTLS, submission over TLS, and plain SMTP for a relay on the LAN.
var relayPorts = []int{587, 465, 25}

// recordRow is a DNS record as the mail page shows it: its value cut in
// parts between which a long line may break (a DKIM key is one 400-byte
// word), with nothing added when it is copied.
type recordRow struct {
	Record
	Parts []string
}

// breakEvery is the length of the parts of a record's value.
const breakEvery = 48

func newRecordRow(r Record) recordRow {
	row := recordRow{Record: r}
	for v := r.Value; v != ""; {
		n := min(len(v), breakEvery)
		for n < len(v) && !utf8.RuneStart(v[n]) {
			n++
		}
		row.Parts = append(row.Parts, v[:n])
		v = v[n:]
	}
	return row
}

// domainRecords are the DNS records of one mail domain, beside what DNS
// answers now.
type domainRecords struct {
	Domain  string
	Records []recordRow
	Failed  bool // DNS could not be asked: the records are shown unchecked
}

type adminMailPage struct {
	Form        relayForm
	HasPassword bool
	Ways        []delivery.Way
	Ports       []int
	Errors      fieldErrors
	Saved       bool
	Queue       delivery.Stats
	QueueFailed bool
	Domains     []domainRecords
}

func formFromRelay(r delivery.Relay) relayForm {
	f := relayForm{Way: string(r.Way), Host: r.Host, Username: r.Username, VERP: r.VERP}
	if f.Way == "" {
		f.Way = string(delivery.Outbox)
	}
	if r.Port != 0 {
		f.Port = strconv.Itoa(r.Port)
	}
	return f
}

// toRelay checks the form and returns the relay it describes; password is
// what was typed, "" to keep old's.
func (f relayForm) toRelay(password string, old delivery.Relay) (delivery.Relay, fieldErrors) {
	errs := fieldErrors{}
	r := delivery.Relay{Way: delivery.Way(f.Way), VERP: f.VERP}
	if !slices.Contains([]delivery.Way{delivery.Outbox, delivery.Smarthost, delivery.MX}, r.Way) {
		errs["way"] = "list.relay.error.way"
	}
	// The smarthost's settings are kept whatever the way, so that
	// switching back to it loses nothing; they must be complete only when
	// it is the way.
	smarthost := r.Way == delivery.Smarthost
	r.Host = strings.ToLower(strings.TrimSpace(f.Host))
	if r.Host == "" && smarthost {
		errs["host"] = "form.error.required"
	} else if _, err := parseAddress("x@" + r.Host); r.Host != "" && err != nil {
		errs["host"] = "list.error.domain"
	}
	if p := strings.TrimSpace(f.Port); p != "" || smarthost {
		port, err := strconv.Atoi(p)
		if err != nil || !slices.Contains(relayPorts, port) {
			errs["port"] = "list.relay.error.port"
		}
		r.Port = port
	}
	var key string
	if r.Username, key = checkText(f.Username, 200, false); key != "" {
		errs["username"] = key
	}
	r.Password = password
	if password == "" {
		r.Password = old.Password
	}
	if len(r.Password) > 1000 {
		errs["password"] = "form.error.too_long"
	}
	if len(errs) == 0 {
		errs = nil
	}
	return r, errs
}

// mailDomains returns the mail domains of the lists, the configured one
// when there is no list.
func (s *Service) mailDomains() ([]string, error) {
	lists, err := s.Lists()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range lists {
		if l.Domain != "" && !slices.Contains(out, l.Domain) {
			out = append(out, l.Domain)
		}
	}
	if len(out) == 0 && s.cfg.MailDomain != "" {
		out = append(out, s.cfg.MailDomain)
	}
	slices.Sort(out)
	return out, nil
}

func (s *Service) renderMail(w http.ResponseWriter, r *http.Request, status int, page adminMailPage) {
	page.Ways = []delivery.Way{delivery.Outbox, delivery.Smarthost, delivery.MX}
	page.Ports = relayPorts
	page.HasPassword = s.Relay().Password != ""
	var err error
	if page.Queue, err = s.QueueStats(); err != nil {
		s.web.logger.Error("read queue stats", "error", err)
		page.QueueFailed = true
	}
	domains, err := s.mailDomains()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), dnsTimeout)
	defer cancel()
	for _, d := range domains {
		dr := domainRecords{Domain: d}
		recs, err := s.DNSRecords(ctx, d, true)
		if err != nil {
			s.web.logger.Warn("check DNS records", "domain", d, "error", err)
			dr.Failed = true
			recs, _ = s.DNSRecords(context.WithoutCancel(ctx), d, false)
		}
		for _, r := range recs {
			dr.Records = append(dr.Records, newRecordRow(r))
		}
		page.Domains = append(page.Domains, dr)
	}
	s.render(w, r, status, "admin_mail.html", page)
}

// adminMail serves how mail leaves, the delivery queue, and the DNS
// records to publish beside what DNS answers now.
func (s *Service) adminMail(w http.ResponseWriter, r *http.Request) {
	s.renderMail(w, r, http.StatusOK, adminMailPage{Form: formFromRelay(s.Relay()), Saved: r.URL.Query().Has("saved")})
}

// adminSaveMail saves how mail leaves.
func (s *Service) adminSaveMail(w http.ResponseWriter, r *http.Request) {
	form := relayForm{
		Way:      r.PostFormValue("way"),
		Host:     keep(r.PostFormValue("host")),
		Port:     keep(r.PostFormValue("port")),
		Username: keep(r.PostFormValue("username")),
		VERP:     r.PostFormValue("verp") != "",
	}
	relay, errs := form.toRelay(r.PostFormValue("password"), s.Relay())
	if errs != nil {
		s.renderMail(w, r, http.StatusBadRequest, adminMailPage{Form: form, Errors: errs})
		return
	}
	if err := s.SetRelay(relay); err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("mail relay saved", "way", string(relay.Way), "host", relay.Host, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/mail?saved")
}
