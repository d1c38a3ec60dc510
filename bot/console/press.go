package console

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/drbot-dev/drbot/incident"
)

// Pressing buttons in the console: by number or label, in the
// conversation shown.

// press presses a button as the current user. "press N" counts the
// buttons of the newest message shown that has any; "press LABEL" takes
// the newest button with that text in the current conversation, else in
// the current user's direct messages with drbot.
func (c *Console) press(ctx context.Context, arg string) error {
	arg = strings.Trim(arg, `"'`)
	if arg == "" {
		return errors.New("press: want press N or press LABEL")
	}
	c.mu.Lock()
	msg, btn, err := c.findButton(arg)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	req := incident.PressRequest{UserID: c.user, ChannelID: msg.channel, Action: btn.Action}
	c.printf(msg.channel, "", "%s pressed [%s]", userName(c.plan, c.user), unescape(btn.Label))
	svc := c.svc
	c.mu.Unlock()

	reply, err := svc.Press(ctx, req)
	if err := c.reply(req.ChannelID, reply, err); err != nil {
		return fmt.Errorf("press %s: %w", btn.Label, err)
	}
	return c.settle(ctx)
}

// findButton finds what "press ARG" means. c.mu is held.
func (c *Console) findButton(arg string) (*shown, incident.Button, error) {
	if n, err := strconv.Atoi(arg); err == nil {
		for i := len(c.shown) - 1; i >= 0; i-- {
			s := c.shown[i]
			if len(s.msg.Buttons) == 0 {
				continue
			}
			if n < 1 || n > len(s.msg.Buttons) {
				return nil, incident.Button{}, fmt.Errorf("no button %d: the newest message with buttons, in %s, has %d", n, convName(c.plan, s.channel), len(s.msg.Buttons))
			}
			return s, s.msg.Buttons[n-1], nil
		}
		return nil, incident.Button{}, fmt.Errorf("no button %d: no message with buttons has been shown yet", n)
	}
	dm := DMID(c.user)
	for _, conv := range []string{c.conv, dm} {
		for i := len(c.shown) - 1; i >= 0; i-- {
			s := c.shown[i]
			if s.channel != conv || (s.onlyFor != "" && s.onlyFor != c.user) {
				continue
			}
			for j := len(s.msg.Buttons) - 1; j >= 0; j-- {
				if strings.EqualFold(unescape(s.msg.Buttons[j].Label), arg) {
					return s, s.msg.Buttons[j], nil
				}
			}
		}
	}
	where := convName(c.plan, c.conv) + " or " + userName(c.plan, c.user) + "'s direct messages"
	if c.conv == dm {
		where = userName(c.plan, c.user) + "'s direct messages"
	}
	hint := ""
	name := strings.TrimPrefix(c.conv, channelPrefix)
	incidentChannel := strings.HasPrefix(c.conv, channelPrefix) && (strings.HasPrefix(name, "inc-") || strings.HasPrefix(name, "drill-"))
	if incidentChannel && !c.seen(c.conv) && len(c.channels) > 0 {
		// Typed "in #inc-1-..." on a database whose next incident had
		// another number: say where the incidents of this session are.
		names := make([]string, 0, len(c.channels))
		for name := range c.channels {
			names = append(names, "#"+name)
		}
		sort.Strings(names)
		hint = fmt.Sprintf(" (nothing was shown in %s in this session; channels opened: %s)", convName(c.plan, c.conv), strings.Join(names, ", "))
	}
	if hint == "" && len(c.shownAgain) > 0 {
		names := make([]string, 0, len(c.shownAgain))
		for _, ch := range c.shownAgain {
			names = append(names, convName(c.plan, ch))
		}
		hint = fmt.Sprintf(" (of an earlier session's messages, only each open incident's current step is shown again: in %s; "+
			"a page of then is acknowledged with /incident ack)", strings.Join(names, ", "))
	}
	return nil, incident.Button{}, fmt.Errorf("no button %q in %s%s", arg, where, hint)
}

// seen reports whether a message was shown in conversation conv. c.mu is
// held.
func (c *Console) seen(conv string) bool {
	for _, s := range c.shown {
		if s.channel == conv {
			return true
		}
	}
	return false
}
