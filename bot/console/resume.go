package console

import "github.com/drbot-dev/drbot/incident"

// ShowAgain shows m, a message drbot posted in channelID in an earlier
// session (incident.Engine.CurrentStep), tagged "(shown again)", so that
// its buttons can be pressed in this one: the console's buttons belong to
// the session that showed them.
func (c *Console) ShowAgain(channelID string, m incident.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := normalizeChannel(channelID)
	c.shownAgain = append(c.shownAgain, ch)
	c.show(&shown{channel: ch, ts: c.nextTS(), msg: m}, "(shown again)")
}
