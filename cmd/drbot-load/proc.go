package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/drbot-dev/drbot/bot"
)

// buildDrbot builds ./cmd/drbot of the module the load runs in.
func buildDrbot(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "drbot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/drbot-dev/drbot/cmd/drbot")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build drbot (run drbot-load from the drbot repository, or give --drbot): %v\n%s", err, out)
	}
	return bin, nil
}

// proc is a child process the load measures: drbot serve, or the bare
// handler.
type proc struct {
	cmd    *exec.Cmd
	addr   string // host:port it listens on
	exited chan struct{}
	err    error // of Wait, once exited is closed

	warnings, errs atomic.Int64 // log lines at WARN and ERROR (drbot)

	mu     sync.Mutex
	maxRSS int64 // KiB, sampled
}

// startDrbot runs "drbot serve" on a free port and waits until it says
// where it listens. Its log goes to logPath.
func startDrbot(ctx context.Context, bin, plan, db, logPath, logLevel string, env []string) (*proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--plan", plan, "--db", db, "--log-level", logLevel)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DRBOT_") || strings.HasPrefix(kv, "SLACK_")
	}), env...)
	cmd.Stdout = logFile
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	addrc := make(chan string, 1)
	go func() {
		defer logFile.Close()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logFile.Write(append(line, '\n'))
			var rec struct {
				Level string `json:"level"`
				Msg   string `json:"msg"`
				Addr  string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) != nil {
				continue
			}
			switch rec.Level {
			case "WARN":
				p.warnings.Add(1)
			case "ERROR":
				p.errs.Add(1)
			}
			if rec.Msg == "listening" {
				select {
				case addrc <- rec.Addr:
				default:
				}
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := p.awaitListening(ctx, addrc, 30*time.Second, "drbot serve", "; its log: "+logPath); err != nil {
		return nil, err
	}
	go p.sampleRSS()
	return p, nil
}

// awaitListening waits until the process's output reader sends on addrc
// the address it listens on, and keeps it in p.addr. A process that exits
// first or says nothing within wait is an error naming it (what) and
// ending with hint (where its log is, say); one still running then, or
// when ctx ends, is killed.
func (p *proc) awaitListening(ctx context.Context, addrc <-chan string, wait time.Duration, what, hint string) error {
	select {
	case p.addr = <-addrc:
		return nil
	case <-p.exited:
		return fmt.Errorf("%s exited before listening (%v)%s", what, p.err, hint)
	case <-time.After(wait):
		p.kill()
		return fmt.Errorf("%s did not say where it listens within %s%s", what, wait, hint)
	case <-ctx.Done():
		p.kill()
		return ctx.Err()
	}
}

// sampleRSS keeps the largest VmRSS seen, every 100 ms until the process
// exits. VmHWM says the peak too, but only while the process lives.
func (p *proc) sampleRSS() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.exited:
			return
		case <-t.C:
			if m, err := readMemory(p.cmd.Process.Pid); err == nil {
				p.mu.Lock()
				p.maxRSS = max(p.maxRSS, m.RSSKiB)
				p.mu.Unlock()
			}
		}
	}
}

// Memory is a process's resident memory, from /proc/PID/status.
type Memory struct {
	HWMKiB        int64 `json:"vm_hwm_kib"` // peak resident set
	RSSKiB        int64 `json:"vm_rss_kib"` // resident set when read
	MaxSampledKiB int64 `json:"max_sampled_rss_kib"`
}

func readMemory(pid int) (Memory, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	for _, line := range strings.Split(string(raw), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmHWM":
			m.HWMKiB = n
		case "VmRSS":
			m.RSSKiB = n
		}
	}
	if m.HWMKiB == 0 && m.RSSKiB == 0 {
		return m, errors.New("no VmHWM or VmRSS in /proc status")
	}
	return m, nil
}

// memory reads the process's memory now, with the largest sample.
func (p *proc) memory() Memory {
	m, _ := readMemory(p.cmd.Process.Pid)
	p.mu.Lock()
	m.MaxSampledKiB = max(p.maxRSS, m.RSSKiB)
	p.mu.Unlock()
	return m
}

// stop sends SIGTERM and waits for the exit, killing the process after
// grace.
func (p *proc) stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(grace):
		p.kill()
		return fmt.Errorf("did not stop within %s of SIGTERM; killed", grace)
	}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// ---- the bare handler ----

// bareEnv, set in a child's environment, makes the program serve the bare
// handler instead of running the load; its value is the signing secret.
const bareEnv = "DRBOT_LOAD_BARE_SECRET"

// serveBareMain is the bare handler process: it listens on a free port of
// 127.0.0.1, says where on its standard output, and serves until SIGTERM.
func serveBareMain() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare handler:", err)
		return 1
	}
	fmt.Printf("listening %s\n", ln.Addr())
	srv := &http.Server{Handler: BareHandler(os.Getenv(bareEnv)), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		close(done)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "bare handler:", err)
		return 1
	}
	<-done
	return 0
}

// BareHandler is the baseline drbot is compared with: the three Slack
// endpoints reading the body (at most bot.MaxBody) and verifying its
// signature with drbot's own verifier, then answering at once: a small
// ephemeral JSON answer to commands, an empty 200 to the rest. Whatever
// drbot takes beyond it is its own work.
func BareHandler(secret string) http.Handler {
	v := bot.Verifier{Secret: []byte(secret)}
	verified := func(w http.ResponseWriter, r *http.Request) bool {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, bot.MaxBody))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return false
		}
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return false
		}
		return true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", func(w http.ResponseWriter, r *http.Request) {
		if verified(w, r) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = io.WriteString(w, `{"response_type":"ephemeral","text":"ok"}`+"\n")
		}
	})
	for _, path := range []string{"POST /slack/interactions", "POST /slack/events"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if verified(w, r) {
				w.WriteHeader(http.StatusOK)
			}
		})
	}
	return mux
}

// startBare runs this program again as the bare handler process.
func startBare(ctx context.Context, secret string) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to run the bare handler: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), bareEnv+"="+secret)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bare handler: %w", err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				select {
				case addrc <- addr:
				default:
				}
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := p.awaitListening(ctx, addrc, 10*time.Second, "the bare handler", ""); err != nil {
		return nil, err
	}
	go p.sampleRSS()
	return p, nil
}

// killIfRunning kills the process unless it has exited: deferred after a
// start, so that an error on the way never leaves it running.
func (p *proc) killIfRunning() {
	select {
	case <-p.exited:
	default:
		p.kill()
	}
}
