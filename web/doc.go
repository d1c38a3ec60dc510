// Package web serves drbot's read-only pages: the open incidents with a
// live RTO countdown and the recent ones (/), an incident with its step
// chart, pages, timeline, notes and postmortem (/incidents/N), the plan as
// a book (/plan) and figures across incidents (/stats).
//
// The pages are rendered on the server (html/template, assets embedded in
// the binary); the only script moves the countdowns. No page writes
// anything but a sign-in.
//
// Access. "drbot web" on a loopback address serves them to whoever is on
// the machine, with no sign-in. "drbot serve" with DRBOT_PUBLIC_URL serves
// them behind a session: "/incident web" in Slack gives its typist a
// one-time link (incident.NewSignInLink), valid 10 minutes; opening it and
// pressing "Sign in" starts a session of 12 hours held in an HttpOnly,
// SameSite=Lax cookie (Secure over https). Links and sessions live in the
// Store as hashes (incident/websignin.go), so instances that share a
// database share them. A page asked for without a valid session answers
// 401 and says how to sign in.
package web
