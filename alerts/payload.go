package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/drbot-dev/drbot/incident"
)

// amMessage is Alertmanager's webhook body, version 4: the same shape as
// its notify/webhook.Message (template.Data plus version, groupKey and
// truncatedAlerts), declared here because that package brings in the
// whole notification pipeline. Unknown fields are ignored.
type amMessage struct {
	*template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`

	// Set by Grafana only: a Grafana body sent to the Alertmanager
	// endpoint is refused, saying where it goes.
	OrgID *int64 `json:"orgId"`
}

// grafanaMessage is Grafana alerting's webhook contact point body
// (version 1): Alertmanager's fields, its alerts with more links, and
// orgId, title, state and message.
type grafanaMessage struct {
	Receiver          string         `json:"receiver"`
	Status            string         `json:"status"`
	OrgID             int64          `json:"orgId"`
	Alerts            []grafanaAlert `json:"alerts"`
	GroupLabels       template.KV    `json:"groupLabels"`
	CommonLabels      template.KV    `json:"commonLabels"`
	CommonAnnotations template.KV    `json:"commonAnnotations"`
	ExternalURL       string         `json:"externalURL"`
	Version           string         `json:"version"`
	GroupKey          string         `json:"groupKey"`
	TruncatedAlerts   int            `json:"truncatedAlerts"`
	Title             string         `json:"title"`
	State             string         `json:"state"`
	Message           string         `json:"message"`

	// Grafana's legacy (pre-8) alerting webhook: refused, saying so.
	RuleName string `json:"ruleName"`
}

type grafanaAlert struct {
	template.Alert
	SilenceURL   string `json:"silenceURL"`
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
}

// unmarshal decodes a JSON object, saying what is wrong in words a person
// configuring the sender can act on.
func unmarshal(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syn):
		return fmt.Errorf("the body is not JSON (%v at byte %d): send the webhook's JSON body as is", syn, syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("the body is a JSON %s, not an object: send the webhook's JSON body as is", typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("field %s is a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	}
	return fmt.Errorf("the body is not a webhook notification: %v", err)
}

func decodeAlertmanager(body []byte) (incident.AlertGroup, error) {
	var m amMessage
	if err := unmarshal(body, &m); err != nil {
		return incident.AlertGroup{}, err
	}
	switch {
	case m.OrgID != nil || m.Version == "1":
		return incident.AlertGroup{}, errors.New("this is Grafana's webhook (it has orgId or version 1): send it to /alerts/grafana")
	case m.Data == nil:
		return incident.AlertGroup{}, errors.New("the body is an empty object, not an Alertmanager notification (receiver, status, alerts, groupKey)")
	case m.Version != "4":
		return incident.AlertGroup{}, fmt.Errorf("version %q: drbot reads Alertmanager's webhook version 4 (Alertmanager 0.x sends it)", m.Version)
	case m.GroupKey == "":
		return incident.AlertGroup{}, errors.New("no groupKey: an Alertmanager notification names its group; is this Alertmanager's webhook?")
	}
	g := incident.AlertGroup{
		Source: incident.SourceAlertmanager, Key: m.GroupKey, Receiver: m.Receiver,
		ExternalURL: m.ExternalURL, Truncated: int(min(m.TruncatedAlerts, 1<<31)),
	}
	for i, a := range m.Alerts {
		al, err := alert(i, a)
		if err != nil {
			return incident.AlertGroup{}, err
		}
		if a.GeneratorURL != "" {
			al.Links = append(al.Links, incident.Link{Label: "Source", URL: a.GeneratorURL})
		}
		g.Alerts = append(g.Alerts, al)
	}
	return g, checkGroup(m.Status, g)
}

func decodeGrafana(body []byte) (incident.AlertGroup, error) {
	var m grafanaMessage
	if err := unmarshal(body, &m); err != nil {
		return incident.AlertGroup{}, err
	}
	switch {
	case m.RuleName != "" && m.Alerts == nil:
		return incident.AlertGroup{}, errors.New("this is Grafana's legacy alerting webhook (ruleName, evalMatches): use a webhook contact point of Grafana alerting (Grafana 8 and later)")
	case m.Version == "4":
		return incident.AlertGroup{}, errors.New("this is Alertmanager's webhook (version 4): send it to /alerts/alertmanager")
	}
	// The group is the notification policy's group: its labels, in its
	// organisation and contact point. Their fingerprint names it, since
	// Grafana's groupKey changes with the policy tree.
	key := strconv.FormatInt(m.OrgID, 10) + "/" + m.Receiver + "/" + labelsOf(m.GroupLabels).Fingerprint().String()
	g := incident.AlertGroup{Source: incident.SourceGrafana, Key: key, Receiver: m.Receiver, ExternalURL: m.ExternalURL, Truncated: m.TruncatedAlerts}
	for i, a := range m.Alerts {
		al, err := alert(i, a.Alert)
		if err != nil {
			return incident.AlertGroup{}, err
		}
		for _, l := range []incident.Link{{Label: "Rule", URL: a.GeneratorURL}, {Label: "Dashboard", URL: a.DashboardURL}, {Label: "Panel", URL: a.PanelURL}, {Label: "Silence", URL: a.SilenceURL}} {
			if l.URL != "" {
				al.Links = append(al.Links, l)
			}
		}
		g.Alerts = append(g.Alerts, al)
	}
	return g, checkGroup(m.Status, g)
}

// alert converts the i-th alert; one with no fingerprint gets the one
// Alertmanager would compute from its labels.
func alert(i int, a template.Alert) (incident.Alert, error) {
	if a.Status != "firing" && a.Status != "resolved" {
		return incident.Alert{}, fmt.Errorf("alerts[%d].status is %q, want firing or resolved", i, a.Status)
	}
	if len(a.Labels) == 0 {
		return incident.Alert{}, fmt.Errorf("alerts[%d] has no labels: the plan's alerts: rules match on them", i)
	}
	fp := a.Fingerprint
	if fp == "" {
		fp = labelsOf(a.Labels).Fingerprint().String()
	}
	return incident.Alert{
		Firing: a.Status == "firing", Labels: a.Labels, Annotations: a.Annotations,
		StartsAt: a.StartsAt, Fingerprint: fp,
	}, nil
}

func labelsOf(kv template.KV) model.LabelSet {
	ls := make(model.LabelSet, len(kv))
	for k, v := range kv {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// checkGroup refuses a notification with no alerts or a status that is
// neither firing nor resolved.
func checkGroup(status string, g incident.AlertGroup) error {
	if status != "firing" && status != "resolved" {
		return fmt.Errorf("status is %q, want firing or resolved", status)
	}
	if len(g.Alerts) == 0 {
		return errors.New("no alerts: a notification lists the alerts of its group")
	}
	return nil
}
