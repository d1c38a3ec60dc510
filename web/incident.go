package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

type incidentData struct {
	Inc                *incident.Incident
	RPO                time.Duration
	Declared, Resolved string
	DeclaredBy         string
	ResolvedBy         string
	Recovery           string // the recovery point against the RPO; "" until one is recorded
	Countdown          *countdown
	Chart              stepChart
	Roles              []roleRow
	Timeline, Notes    []eventRow
	Postmortem         template.HTML // the Markdown postmortem, rendered; "" while open
}

type roleRow struct {
	Role      string
	Contacts  []string
	Pages     int
	Acked     bool
	AckedBy   string
	AckedAt   string
	Exhausted bool
}

type eventRow struct {
	At, Kind, Actor, Text string
}

// load reads the incident of the request's path ({id}) with its timeline
// and plan, and computes its postmortem as of now: what the engine's
// Postmortem does, without an Engine (drbot web only reads the database).
func (s *Server) load(r *http.Request) (*incident.Incident, *playbooks.Plan, *incident.Postmortem, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		inc    *incident.Incident
		events []incident.Event
		plan   *playbooks.Plan
	)
	err = s.cfg.Store.View(r.Context(), func(tx incident.Tx) error {
		var err error
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		if events, err = tx.Timeline(id); err != nil {
			return fmt.Errorf("timeline of incident %d: %w", id, err)
		}
		plan = s.planOf(tx, inc)
		return nil
	})
	if incident.ErrorCode(err) == incident.ENOTFOUND {
		return nil, nil, nil, errNotFound{fmt.Sprintf("There is no incident %d.", id)}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return inc, plan, incident.BuildPostmortem(inc, events, plan, s.cfg.Now()), nil
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request, v viewer) error {
	inc, plan, pm, err := s.load(r)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	nm := names(plan)
	for k, n := range pm.Names {
		nm[k] = n
	}
	who := func(id string) string {
		if id == "" {
			return "drbot"
		}
		if n := nm[id]; n != "" {
			return n
		}
		return id
	}
	d := incidentData{Inc: inc, Declared: s.clock(inc.DeclaredAt), Resolved: s.clock(inc.ResolvedAt),
		DeclaredBy: who(inc.DeclaredBy), ResolvedBy: who(inc.ResolvedBy)}
	var sc *playbooks.Scenario
	if plan != nil {
		sc = plan.Scenario(inc.Scenario)
		if svc := plan.ServiceOf(sc); svc != nil {
			d.RPO = svc.RPO
		}
	}
	d.Recovery = s.recovery(pm)
	if inc.State == incident.StateOpen {
		c := s.newCountdown(inc, plan, now)
		d.Countdown = &c
	}
	d.Chart = newStepChart(inc, sc, now)
	for _, rp := range inc.Roles {
		row := roleRow{Role: rp.Role, Pages: rp.Sent, Acked: rp.Acked, AckedBy: who(rp.AckedBy), AckedAt: s.clock(rp.AckedAt), Exhausted: rp.Exhausted}
		for _, c := range rp.Contacts {
			row.Contacts = append(row.Contacts, who(c))
		}
		d.Roles = append(d.Roles, row)
	}
	for _, e := range pm.Timeline {
		at, _ := time.Parse(time.RFC3339, e.At)
		er := eventRow{At: s.clock(at), Kind: string(e.Kind), Actor: who(e.Actor), Text: e.Text}
		d.Timeline = append(d.Timeline, er)
		if e.Kind == incident.KindNote {
			d.Notes = append(d.Notes, er)
		}
	}
	if inc.State == incident.StateResolved {
		if d.Postmortem, err = markdownHTML(pm.Markdown()); err != nil {
			return err
		}
	}
	title := fmt.Sprintf("#%d %s", inc.ID, inc.Title)
	return s.render(w, http.StatusOK, "incident", layoutData{Title: title, Nav: "home", Viewer: s.viewerName(v), Content: d})
}

// recovery says the recovery point and the data lost against the RPO,
// from the postmortem's figures.
func (s *Server) recovery(pm *incident.Postmortem) string {
	if pm.RecoveryPoint == nil {
		return ""
	}
	at, err := time.Parse(time.RFC3339, *pm.RecoveryPoint)
	if err != nil {
		return *pm.RecoveryPoint
	}
	out := s.clock(at)
	if pm.DataLossSeconds != nil {
		out += "; data lost " + playbooks.FormatDuration(time.Duration(*pm.DataLossSeconds)*time.Second)
	}
	if pm.RPOSeconds != nil && pm.RPOMet != nil {
		verdict := "met"
		if !*pm.RPOMet {
			verdict = "missed"
		}
		out += fmt.Sprintf(" against an RPO of %s (%s)", playbooks.FormatDuration(time.Duration(*pm.RPOSeconds)*time.Second), verdict)
	}
	return out
}

// md renders the postmortem's Markdown. Text people typed arrives with
// its "<" escaped (incident's Markdown writer), so it shows as typed;
// raw HTML, were any left, would be omitted, never passed through
// (goldmark's default).
var md = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

func markdownHTML(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render the postmortem: %w", err)
	}
	return template.HTML(buf.String()), nil
}

// postmortemFile downloads the postmortem of an incident, as Markdown
// ("md") or as the JSON of the contract ("json"), computed as of now.
func (s *Server) postmortemFile(ext string) handler {
	return func(w http.ResponseWriter, r *http.Request, _ viewer) error {
		inc, _, pm, err := s.load(r)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"postmortem-%d.%s\"", inc.ID, ext))
		if ext == "md" {
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
			_, err = w.Write([]byte(pm.Markdown()))
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(pm)
	}
}
