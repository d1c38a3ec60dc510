package playbooks

import "encoding/json"

// SchemaID is the $id of the plan's JSON Schema.
const SchemaID = "https://github.com/drbot-dev/drbot/raw/main/playbooks/plan.schema.json"

// Schema returns a JSON Schema (draft-07, the draft yaml-language-server
// and VS Code know best) of the plan file, so editors complete and check a
// plan as it is typed. It describes the same keys Parse accepts; Parse
// remains the judge of references, cycles and feasibility, which a schema
// cannot express.
func Schema() []byte {
	b, err := json.MarshalIndent(schema(), "", "  ")
	if err != nil {
		panic("playbooks: marshal schema: " + err.Error()) // a literal below is wrong
	}
	return append(b, '\n')
}

type object = map[string]any

func ref(name string) object { return object{"$ref": "#/definitions/" + name} }

func str(desc string) object {
	return object{"type": "string", "minLength": 1, "description": desc}
}

func with(o object, kv ...any) object {
	for i := 0; i+1 < len(kv); i += 2 {
		o[kv[i].(string)] = kv[i+1]
	}
	return o
}

// closed is an object schema that accepts only keys, as Parse does. It
// panics unless props describes exactly keys, the list Parse checks
// against, so the schema and the parser cannot drift apart.
func closed(desc string, keys []string, props object, required ...string) object {
	if len(props) != len(keys) {
		panic("playbooks: schema properties and keys differ")
	}
	for _, k := range keys {
		if _, ok := props[k]; !ok {
			panic("playbooks: schema has no property " + k)
		}
	}
	o := object{"type": "object", "description": desc, "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func idMap(desc, pattern string, value any) object {
	return object{
		"type":                 "object",
		"description":          desc,
		"propertyNames":        object{"pattern": pattern},
		"additionalProperties": value,
	}
}

func idList(desc, of string) object {
	return object{"type": "array", "description": desc, "uniqueItems": true, "items": ref(of)}
}

// Patterns of the schema's strings that Go's parser checks in its own way.
const (
	durationPattern = `^[+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h|d))+$`
	percentPattern  = `^ *[0-9]*\.?[0-9]+ *% *$`
	schedulePattern = `^\s*(((CRON_)?TZ=\S+\s+)?(@\w+.*|\S+(\s+\S+){4}))\s*$`
)

// schema is the plan's JSON Schema: its definitions, the plan's top-level
// properties, and the messages editors show for its patterns.
func schema() object {
	defs := schemaDefinitions()
	alertRule, alertRules, alertChannel := alertSchema()
	defs["alert"] = alertRule
	props := planProperties()
	props["alerts"] = alertRules
	props["alert_channel"] = alertChannel
	root := closed("A drbot disaster recovery plan.", planKeys, props, "version", "contacts", "roles", "scenarios")
	return rootSchema(root, defs)
}

// schemaDefinitions are the schema's shared definitions: ids, durations,
// contacts, services, steps, scenarios, drills.
func schemaDefinitions() object {
	return object{
		"id": object{"type": "string", "pattern": idPattern.String(), "maxLength": MaxID,
			"description": "An id: letters, digits, -, _ or ., starting with a letter or digit."},
		"contactId":  object{"type": "string", "pattern": idPattern.String(), "maxLength": MaxID, "description": "The id of a contact under contacts."},
		"roleId":     object{"type": "string", "pattern": idPattern.String(), "maxLength": MaxID, "description": "The name of a role under roles."},
		"serviceId":  object{"type": "string", "pattern": idPattern.String(), "maxLength": MaxID, "description": "The id of a service under services."},
		"scenarioId": object{"type": "string", "pattern": scenarioPattern.String(), "maxLength": maxScenarioID, "description": "The id of a scenario under scenarios."},
		"duration": object{"type": "string", "pattern": durationPattern,
			"description": "A Go duration (90s, 10m, 1h30m) or days (14d)."},
		"fraction": object{
			"description": "A percentage (99.95%) or a fraction (0.9995).",
			"anyOf": []any{
				object{"type": "string", "pattern": percentPattern},
				object{"type": "number", "exclusiveMinimum": 0, "maximum": 1},
			},
		},
		"schedule": object{"type": "string", "pattern": schedulePattern,
			"description": "A 5-field cron spec (minute hour day-of-month month day-of-week, e.g. \"0 9 1 */3 *\") or a descriptor (@weekly, @every 720h), in the plan's timezone."},

		"contact": with(closed("A person the plan may page. Give slack, or email for drbot to look the member up by.", contactKeys, object{
			"name":  str("Full name, shown in pages and messages."),
			"slack": object{"type": "string", "pattern": slackPattern.String(), "description": "Slack member ID (profile → ⋮ → Copy member ID), such as U0ALICE01."},
			"email": object{"type": "string", "format": "email", "description": "Used with users.lookupByEmail when slack is absent."},
			"phone": object{"type": []string{"string", "number"}, "description": "Shown to responders; drbot never dials it."},
		}, "name"), "anyOf", []any{object{"required": []string{"slack"}}, object{"required": []string{"email"}}}),

		"service": closed("A component with recovery objectives.", serviceKeys, object{
			"rto":             with(ref("duration"), "description", "Recovery Time Objective: how long the service may be down. Scenarios of this service are checked against it."),
			"rpo":             with(ref("duration"), "description", "Recovery Point Objective: how much data, in time, may be lost. backup_interval is checked against it."),
			"backup_interval": with(ref("duration"), "description", "How often backups run."),
			"restore_time":    with(ref("duration"), "description", "Measured time of a full restore; checked against rto."),
			"availability":    with(ref("fraction"), "description", "This component's own availability (SLA), e.g. 99.95%."),
			"depends_on":      idList("Services this one needs to work; composite availability is the product along them.", "serviceId"),
		}),

		"step": with(closed("One thing to do. A step goes on to the next in the list, unless it has next or answers.", stepKeys, object{
			"id":       object{"type": "string", "pattern": idPattern.String(), "not": object{"const": End}, "description": "The step's id, unique in the scenario; end is reserved."},
			"do":       str("What to do, precisely enough for whoever is on call."),
			"estimate": with(ref("duration"), "description", "How long the step takes; the longest path of estimates is checked against the RTO."),
			"owner":    with(ref("roleId"), "description", "The role that does the step."),
			"ask":      str("A decision's question; answers gives one button per answer."),
			"answers": object{
				"type":                 "object",
				"description":          "One button per answer: the label, and the step it leads to (or end).",
				"minProperties":        1,
				"propertyNames":        object{"minLength": 1, "maxLength": MaxAnswerLabel},
				"additionalProperties": object{"type": "string", "minLength": 1},
			},
			"next":           object{"type": "string", "minLength": 1, "description": "The step that follows (a step id, or end) instead of the next in the list."},
			"approval":       with(ref("roleId"), "description", "The step cannot start until a contact of this role clicks Approve."),
			"recovery_point": object{"type": "boolean", "description": "Pressing Done asks for the point in time the data was recovered to; the postmortem measures the data lost against the service's rpo."},
		}, "id", "do"),
			"dependencies", object{"ask": []string{"answers"}, "answers": []string{"ask"}},
			"not", object{"required": []string{"next", "answers"}, "description": "A step has next or answers, not both."}),

		"scenario": closed("If X happens, we do Y.", scenarioKeys, object{
			"title":    str("What happened, in a few words; shown in pages and the channel topic."),
			"service":  with(ref("serviceId"), "description", "The service affected; its rto and rpo apply to the incident."),
			"severity": object{"enum": Severities, "description": "sev1 (worst) to sev4."},
			"page":     idList("Roles paged when the incident is declared.", "roleId"),
			"rto_alerts": object{
				"type": "array", "description": "Fractions of the RTO at which to alert (default 50%, 75%, 90%); 100% (breach) is always alerted.",
				"items": object{"anyOf": []any{
					object{"type": "string", "pattern": percentPattern},
					object{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
				}},
			},
			"steps": object{"type": "array", "minItems": 1, "description": "We do Y: the steps in order.", "items": ref("step")},
		}, "title", "severity", "steps"),

		"drill": closed("A scheduled exercise of a scenario.", drillKeys, object{
			"scenario": ref("scenarioId"),
			"schedule": ref("schedule"),
		}, "scenario", "schedule"),
	}
}

// planProperties are the schemas of the plan's top-level keys but alerts:
// and alert_channel: (alertSchema).
func planProperties() object {
	return object{
		"version":  object{"const": 1, "description": "The plan format's version: 1."},
		"name":     str("The plan's name."),
		"timezone": object{"type": "string", "description": "IANA time zone for reminders and times shown to people, e.g. Europe/Oslo; default UTC."},
		"contacts": with(idMap("Everyone the plan may page, keyed by a short id.", idPattern.String(), ref("contact")), "minProperties", 1),
		"roles": with(idMap("Roles and responsibilities: each role lists its contacts in escalation order.", idPattern.String(),
			object{"type": "array", "minItems": 1, "uniqueItems": true, "items": ref("contactId")}), "minProperties", 1),
		"paging": closed("How pages escalate.", pagingKeys, object{
			"ack_timeout": with(ref("duration"), "description", "No acknowledgement by then: page the next contact of the role (default 5m)."),
			"rounds":      object{"type": "integer", "minimum": 1, "description": "Passes over a role's list before the channel is told nobody answered (default 2)."},
			"webhook":     object{"type": "string", "pattern": `^((https?://|\$\{).+)?$`, "description": "Optional: also POST each page to this URL. ${NAME} is replaced by environment variable NAME: put secrets (routing_key=${DRBOT_PAGERDUTY_KEY}) there, not in the plan."},
		}),
		"services": idMap("Components with recovery objectives, keyed by id.", idPattern.String(),
			object{"anyOf": []any{ref("service"), object{"type": "null"}}}),
		"scenarios": with(idMap("The scenarios: if X happens, we do Y. The id becomes part of the incident channel's name.", scenarioPattern.String(), ref("scenario")),
			"minProperties", 1),
		"review": closed("The scheduled review of the contact list.", reviewKeys, object{
			"schedule":      ref("schedule"),
			"owners":        with(idList("Contacts who confirm the contact list.", "contactId"), "minItems", 1),
			"overdue_after": with(ref("duration"), "description", "Unconfirmed this long after a reminder: remind again and tell the channel (default 14d)."),
			"channel":       str("Optional channel for overdue notices, without # (or quoted: \"#dr-plan\")."),
		}, "schedule", "owners"),
		"drills": object{"type": "array", "description": "Scheduled exercises of scenarios.", "items": ref("drill")},
	}
}

// rootSchema finishes the plan's schema: its identity, the definitions,
// and the messages of its patterns.
func rootSchema(root, defs object) object {
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = SchemaID
	root["title"] = "drbot recovery plan"
	root["definitions"] = defs
	explainPatterns(root, map[string]string{
		idPattern.String():             "An id is the letters a-z and A-Z, digits, -, _ or ., starting with a letter or digit (no spaces, accents or other scripts; names and titles may be in any script).",
		scenarioPattern.String():       "A scenario id becomes a channel name: the lowercase letters a-z, digits, - and _, starting with a letter or digit (no accents or other scripts; the title may be in any script).",
		slackPattern.String():          "A Slack member ID starts with U or W, such as U0ALICE01 (profile → ⋮ → Copy member ID). Or leave slack out and give email.",
		durationPattern:                "Write a duration such as 90s, 10m, 1h30m or 14d.",
		percentPattern:                 "Write a percentage such as 99.95% (or a fraction such as 0.9995).",
		`^((https?://|\$\{).+)?$`:      "The webhook is an https:// URL (or starts with ${NAME} from the environment).",
		`^\s*[^=!~\s]+\s*(=|!=|=~|!~)`: "A matcher is label, operator (=, !=, =~ or !~) and value, such as alertname=\"PaymentsDBDown\".",
		schedulePattern:                "Write 5-field cron (minute hour day month weekday, e.g. \"0 9 * * 1\"; no seconds field) or a descriptor (@weekly, @every 720h).",
	})
	return root
}

// explainPatterns gives every string schema with one of the patterns the
// message editors show instead of the raw regular expression
// (patternErrorMessage, read by yaml-language-server and VS Code), and the
// contact's "slack or email" rule its own errorMessage.
func explainPatterns(n any, messages map[string]string) {
	switch n := n.(type) {
	case object:
		if p, ok := n["pattern"].(string); ok {
			if msg, ok := messages[p]; ok {
				n["patternErrorMessage"] = msg
			}
		}
		if _, ok := n["anyOf"]; ok && n["required"] != nil {
			if req, _ := n["required"].([]string); len(req) == 1 && req[0] == "name" {
				n["errorMessage"] = "A contact needs slack (a member ID such as U0ALICE01) or email (looked up in Slack), or both."
			}
		}
		for _, v := range n {
			explainPatterns(v, messages)
		}
	case []any:
		for _, v := range n {
			explainPatterns(v, messages)
		}
	}
}
