// Package plandoc renders a recovery plan as the book a team prints,
// reviews and keeps offline: a cover, the contacts and their roles in
// escalation order, the paging rules, the inventory of services with their
// recovery objectives and availability, the dependency graph, one section
// per scenario with a flowchart of its steps, the review and drill
// schedules, and the findings of "drbot plan check".
//
// Seed 002 asks for exactly this: a plan "written up, printed, and
// distributed to each of the key players" long before it is needed, and
// ISO 22301 asks that it be reachable when the main site is not.
//
// Two formats: HTML, one self-contained file (inline CSS and SVG, nothing
// fetched from the network) with print CSS so that a browser's "Print to
// PDF" starts every scenario on a new page; and Markdown, with Mermaid
// charts that GitHub and most wikis draw.
//
// The charts are laid out by Graphviz (github.com/goccy/go-graphviz, the C
// library compiled to WebAssembly and run by wazero: no cgo), not by a
// layout of our own.
//
// Words: a flowchart's "worst-case path" is the longest path of step
// estimates through the scenario, over every answer of every decision
// (playbooks.Scenario.LongestPath); it is what "plan check" compares with
// the RTO.
package plandoc
