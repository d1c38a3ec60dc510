// Package console plays Slack in a terminal: it drives the incident
// service with lines a person (or a script) types, and prints every
// message drbot would post, with the conversation it goes to and its
// buttons numbered, on a clock of its own that "wait" moves forward.
//
// It holds no incident rules: it turns lines into the same CommandRequest
// and PressRequest that the Slack surface makes, and implements
// incident.Chat by printing.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// Engine is what the console drives. *incident.Engine satisfies it; tests
// use a fake.
type Engine interface {
	Command(ctx context.Context, req incident.CommandRequest) (incident.Reply, error)
	Press(ctx context.Context, req incident.PressRequest) (incident.Reply, error)
	// Tick fires what is due at the clock's time and delivers the outbox.
	Tick(ctx context.Context) error
	// NextDue is the earliest due time of a timer or an outbox message.
	NextDue(ctx context.Context) (time.Time, bool, error)
	Scenarios() []incident.ScenarioInfo
}

// Config is what a Console is made from.
type Config struct {
	Plan *playbooks.Plan
	// Start is the clock's first reading; zero means now, truncated to the
	// minute.
	Start time.Time
	Out   io.Writer
	// OnClock, when set, is told each new reading of the clock as "wait"
	// moves it, before what falls due then is done: drbot console records
	// it in its database, so that a session killed mid-way resumes there.
	OnClock func(time.Time)
}

// Console is one terminal session. Make it with New, pass Chat() and Now
// to incident.New, then SetEngine and Run.
type Console struct {
	plan *playbooks.Plan
	loc  *time.Location
	out  io.Writer

	clockMu sync.Mutex
	now     time.Time
	onClock func(time.Time)

	mu    sync.Mutex
	svc   Engine
	user  string // user id of who types and presses
	conv  string // conversation id where they type
	shown []*shown
	// shownAgain are the channels ShowAgain showed a step in, for the
	// hint of a press that finds no button.
	shownAgain []string
	channels   map[string]bool // channel names created in this run
	seq        int64
	lastDay    string
}

// shown is a message the console printed, kept so that its buttons can be
// pressed.
type shown struct {
	channel string // conversation id
	ts      string
	msg     incident.Message
	onlyFor string // user id of an ephemeral message's only reader
}

// maxShown bounds the messages remembered for "press"; older ones scroll
// out of reach, as they would off a screen.
const maxShown = 2000

// New returns a Console acting as the plan's first contact in #general.
func New(cfg Config) *Console {
	start := cfg.Start
	if start.IsZero() {
		start = time.Now().Truncate(time.Minute)
	}
	loc := time.UTC
	if cfg.Plan != nil && cfg.Plan.Location != nil {
		loc = cfg.Plan.Location
	}
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	c := &Console{
		plan:     cfg.Plan,
		loc:      loc,
		out:      out,
		now:      start.UTC(),
		onClock:  cfg.OnClock,
		conv:     ChannelID("general"),
		user:     "U-console",
		channels: map[string]bool{},
	}
	if cfg.Plan != nil && len(cfg.Plan.ContactOrder) > 0 {
		c.user = UserID(cfg.Plan.Contacts[cfg.Plan.ContactOrder[0]])
	}
	return c
}

// SetEngine gives the console the engine it drives. It is separate from
// New because the service is made with the console's Chat and clock.
func (c *Console) SetEngine(svc Engine) {
	c.mu.Lock()
	c.svc = svc
	c.mu.Unlock()
}

// Now is the console's clock, in UTC; pass it as incident.Config.Now.
func (c *Console) Now() time.Time {
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	return c.now
}

func (c *Console) setNow(t time.Time) {
	c.clockMu.Lock()
	c.now = t.UTC()
	c.clockMu.Unlock()
	if c.onClock != nil {
		c.onClock(t.UTC())
	}
}

// CatchUp does what is due at the clock's reading, as "wait" would: a
// session resumed later than where the last one stopped (--start) fires
// what fell due in between before anything is shown or typed.
func (c *Console) CatchUp(ctx context.Context) error { return c.settle(ctx) }

// User returns the user id of who is typing now.
func (c *Console) User() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// Conversation returns the id of the conversation typed in now.
func (c *Console) Conversation() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conv
}

// RunOptions says where the lines come from.
type RunOptions struct {
	// Name names the input in errors ("examples/incident.script", "stdin").
	Name string
	// Interactive: a person types. Show a prompt, and report a bad line
	// and go on. Otherwise (a script) echo each line, as a transcript, and
	// stop at the first bad line.
	Interactive bool
}

// ErrQuit is returned by Exec for "quit".
var ErrQuit = errors.New("quit")

// Run reads lines from r and executes them until quit, the end of the
// input, or ctx ends. In a script, the first failing line stops the run
// with an error "NAME:LINE: what went wrong".
func (c *Console) Run(ctx context.Context, r io.Reader, opts RunOptions) error {
	if c.svc == nil {
		return errors.New("console: no service")
	}
	if opts.Name == "" {
		opts.Name = "stdin"
	}
	c.banner()

	// Read in a goroutine so that an interrupt ends an interactive session
	// blocked on the terminal.
	type line struct {
		text string
		err  error
		eof  bool
	}
	lines := make(chan line, 1) // buffered: the reader never blocks on an abandoned run
	next := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for range next {
			if sc.Scan() {
				lines <- line{text: sc.Text()}
				continue
			}
			lines <- line{err: sc.Err(), eof: true}
			return
		}
	}()
	defer close(next)

	for n := 1; ; n++ {
		if opts.Interactive {
			fmt.Fprint(c.out, "> ")
		}
		next <- struct{}{}
		var l line
		select {
		case <-ctx.Done():
			if opts.Interactive {
				fmt.Fprintln(c.out)
				return nil
			}
			return ctx.Err()
		case l = <-lines:
		}
		if l.eof {
			if opts.Interactive {
				fmt.Fprintln(c.out)
			}
			if l.err != nil {
				return fmt.Errorf("read %s: %w", opts.Name, l.err)
			}
			return nil
		}
		if !opts.Interactive {
			c.echo(l.text)
		}
		err := c.Exec(ctx, l.text)
		switch {
		case err == nil:
		case errors.Is(err, ErrQuit):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case opts.Interactive:
			fmt.Fprintf(c.out, "error: %v\n", err)
		default:
			return fmt.Errorf("%s:%d: %w", opts.Name, n, err)
		}
	}
}

// echo prints a script line as it runs, so the output reads as a
// transcript.
func (c *Console) echo(text string) {
	text = strings.TrimRight(text, " \t\r")
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case strings.TrimSpace(text) == "":
		fmt.Fprintln(c.out)
	case strings.HasPrefix(strings.TrimSpace(text), "#"):
		fmt.Fprintln(c.out, strings.TrimSpace(text))
	default:
		fmt.Fprintln(c.out, "> "+strings.TrimSpace(text))
	}
}

// Exec runs one line. It returns ErrQuit for "quit".
func (c *Console) Exec(ctx context.Context, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || strings.HasPrefix(text, "#") {
		return nil
	}
	word, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case "/incident":
		return c.command(ctx, rest)
	case "as":
		return c.as(rest)
	case "in":
		return c.in(rest)
	case "press":
		return c.press(ctx, rest)
	case "wait":
		return c.wait(ctx, rest)
	case "quit", "exit":
		return ErrQuit
	case "help":
		c.help()
		return nil
	}
	if strings.HasPrefix(word, "/") {
		return fmt.Errorf("unknown command %s: drbot answers to /incident", word)
	}
	return fmt.Errorf("unknown line %q: want /incident ..., as CONTACT, in CHANNEL, press N|LABEL, wait DURATION, help or quit", text)
}

func (c *Console) banner() {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := "no plan"
	if c.plan != nil && c.plan.Name != "" {
		name = c.plan.Name
	}
	fmt.Fprintf(c.out, "drbot console: %s. Times are %s.\n", name, c.loc)
	fmt.Fprintf(c.out, "You are %s in %s. Type help for the console's lines, /incident help for drbot's.\n",
		userName(c.plan, c.user), convName(c.plan, c.conv))
}

func (c *Console) help() {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprint(c.out, `/incident ...       a slash command, as the current user, in the current conversation
as CONTACT          act as that contact of the plan from now on
in CHANNEL          type and press in #CHANNEL (or @CONTACT, drbot's direct messages with them)
press N             press the Nth button of the newest message with buttons
press LABEL         press the newest button LABEL here, else in your direct messages
wait DURATION       move the clock forward (5m, 1h30m, 1d); what falls due happens
quit                leave; everything is already saved
`)
	if c.plan != nil {
		fmt.Fprintf(c.out, "Contacts: %s.\n", c.contactList())
	}
}

// command runs "/incident TEXT" as the current user in the current
// conversation.
func (c *Console) command(ctx context.Context, text string) error {
	c.mu.Lock()
	req := incident.CommandRequest{UserID: c.user, ChannelID: c.conv, Text: text}
	svc := c.svc
	c.mu.Unlock()
	reply, err := svc.Command(ctx, req)
	if err := c.reply(req.ChannelID, reply, err); err != nil {
		return fmt.Errorf("/incident %s: %w", text, err)
	}
	return c.settle(ctx)
}

// reply shows the service's answer to the current user. A domain error (an
// unknown scenario, a command outside an incident channel) is drbot's
// answer to a person, shown like any other; anything else is a failure of
// the console itself.
func (c *Console) reply(channel string, r incident.Reply, err error) error {
	if err != nil {
		if incident.ErrorCode(err) == incident.EINTERNAL {
			return err
		}
		r = incident.Reply{Text: incident.ErrorMessage(err)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Text != "" {
		tag := "(only you)"
		if r.Public {
			tag = ""
		}
		c.show(&shown{channel: channel, ts: c.nextTS(), msg: incident.Message{Text: r.Text}}, tag)
	}
	if r.OpenDeclareModal {
		// The service's answer may list the scenarios already.
		c.declareDialog(r.Text == "")
	}
	return nil
}

// declareDialog stands in for the modal Slack would open, listing the
// scenarios unless the service's answer did.
func (c *Console) declareDialog(list bool) {
	lines := []string{"(In Slack this opens the declare dialog; here, type /incident declare SCENARIO [summary], or /incident drill SCENARIO for a drill.)"}
	var scs []incident.ScenarioInfo
	if list && c.svc != nil {
		scs = c.svc.Scenarios()
	}
	for _, sc := range scs {
		about := []string{sc.Severity}
		if sc.Service != "" {
			about = []string{sc.Service, sc.Severity}
		}
		if sc.RTO > 0 {
			about = append(about, "RTO "+playbooks.FormatDuration(sc.RTO))
		}
		lines = append(lines, fmt.Sprintf("  %s: %s (%s)", sc.ID, sc.Title, strings.Join(about, ", ")))
	}
	c.printLines(c.conv, "(only you)", lines)
}

// as switches who types and presses.
func (c *Console) as(arg string) error {
	id := strings.TrimPrefix(arg, "@")
	if id == "" || strings.ContainsAny(id, " \t") {
		return fmt.Errorf("as %q: want as CONTACT, one of %s", arg, c.contactList())
	}
	ct := c.contact(id)
	if ct == nil {
		return fmt.Errorf("unknown contact %q: the plan's contacts are %s", id, c.contactList())
	}
	c.mu.Lock()
	c.user = UserID(ct)
	c.mu.Unlock()
	return nil
}

// in switches the conversation: "#name" (or "name") for a channel,
// "@contact" for drbot's direct messages with that contact.
func (c *Console) in(arg string) error {
	if arg == "" || strings.ContainsAny(arg, " \t") || arg == "#" || arg == "@" {
		return fmt.Errorf("in %q: want in #CHANNEL or in @CONTACT", arg)
	}
	var conv string
	if id, ok := strings.CutPrefix(arg, "@"); ok {
		ct := c.contact(id)
		if ct == nil {
			return fmt.Errorf("unknown contact %q: the plan's contacts are %s", id, c.contactList())
		}
		conv = DMID(UserID(ct))
	} else {
		conv = ChannelID(strings.ToLower(arg))
	}
	c.mu.Lock()
	c.conv = conv
	c.mu.Unlock()
	return nil
}

func (c *Console) contact(id string) *playbooks.Contact {
	if c.plan == nil {
		return nil
	}
	return c.plan.Contacts[id]
}

func (c *Console) contactList() string {
	if c.plan == nil || len(c.plan.ContactOrder) == 0 {
		return "none"
	}
	return strings.Join(c.plan.ContactOrder, ", ")
}

// nextTS returns a message timestamp unique in this run. c.mu is held.
func (c *Console) nextTS() string {
	c.seq++
	return fmt.Sprintf("%d.%06d", c.Now().Unix(), c.seq)
}

// show prints a message and remembers it for press. c.mu is held.
func (c *Console) show(s *shown, tag string) {
	c.shown = append(c.shown, s)
	if len(c.shown) > maxShown {
		c.shown = append([]*shown(nil), c.shown[len(c.shown)-maxShown:]...)
	}
	c.printLines(s.channel, tag, messageLines(c.plan, s.msg))
}

// printf prints one line at the console's time. c.mu is held.
func (c *Console) printf(conv, tag, format string, args ...any) {
	c.printLines(conv, tag, []string{fmt.Sprintf(format, args...)})
}

// printLines prints "[15:04] CONVERSATION TAG: first line" and the other
// lines indented under it, with a date line first ("-- Sat 21 Nov 2026
// (CET) --") when the day or the zone's abbreviation changed: 02:30 CEST
// and 02:30 CET both print as [02:30]. c.mu is held.
func (c *Console) printLines(conv, tag string, lines []string) {
	now := c.Now().In(c.loc)
	if day := now.Format("Mon 2 Jan 2006 (MST)"); day != c.lastDay {
		c.lastDay = day
		fmt.Fprintf(c.out, "-- %s --\n", day)
	}
	var head strings.Builder
	head.WriteString(now.Format("[15:04]"))
	if conv != "" {
		head.WriteString(" " + convName(c.plan, conv))
	}
	if tag != "" {
		head.WriteString(" " + tag)
	}
	if conv != "" || tag != "" {
		head.WriteString(":")
	}
	first := lines[0]
	if first != "" {
		head.WriteString(" " + first)
	}
	fmt.Fprintln(c.out, head.String())
	for _, l := range lines[1:] {
		if l == "" {
			fmt.Fprintln(c.out)
			continue
		}
		fmt.Fprintln(c.out, "        "+l)
	}
}
