package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/drbot-dev/drbot/plandoc"
	"github.com/drbot-dev/drbot/playbooks"
)

const planDocUsage = `drbot plan doc [--format html|markdown] [--out FILE] [FILE]

Writes the plan (FILE, default --plan; - reads stdin) as the book a team prints and keeps
offline: cover, contacts and roles, paging, services with their RTO, RPO and
availability, the dependency graph, one section per scenario with a
flowchart of its steps and the worst-case path against the RTO, review and
drill schedules, and the findings of "drbot plan check".

HTML (the default) is one self-contained file; print it from a browser
("Print", "Save as PDF"): every scenario starts on a new page. Markdown uses
Mermaid for the charts; an --out FILE named .md is Markdown unless --format
says otherwise; --out - is standard output. When --db names a readable database, the cover says
when the contact list was last confirmed and by whom.`

// doc is "drbot plan doc".
func (c *planCommand) doc(ctx context.Context, args []string) error {
	fs, cfg := newCommonFlagSet("plan doc", c.stderr, planDocUsage)
	format := formatFlag(fs, "html", "markdown")
	out := fs.String("out", "", "write to `FILE` instead of standard output (- is standard output)")
	file, err := planArg(fs, cfg, args)
	if err != nil {
		return err
	}
	format.value = formatOfOut(fs, format.value, *out)
	if err := format.check(fs); err != nil {
		return err
	}
	// Like plan check, the book needs no secrets: an unset ${NAME} of
	// paging.webhook is a warning, and the webhook is shown by host only.
	// "-" reads the plan from stdin, as plan check does.
	plan, diags, err := c.load(file, playbooks.Options{UnsetIsWarning: true})
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("plan doc: %w", err)}
	}
	if diags.HasErrors() {
		for _, d := range diags.Errors() {
			fmt.Fprintln(c.stderr, d)
		}
		name := file
		if file == "-" {
			name = "stdin"
		}
		return fmt.Errorf("plan doc: %s has %s: fix them first (\"drbot plan check %s\" lists them all)", name, plural(len(diags.Errors()), "error"), file)
	}
	opts := plandoc.Options{Diagnostics: diags, Now: time.Now()}
	if st, err := os.Stat(file); file != "-" && err == nil {
		opts.FileDate = st.ModTime()
	}
	contacts, cerr := readContactsStatus(ctx, cfg.db, plan)
	if cerr != nil {
		fmt.Fprintf(c.stderr, "plan doc: when the contacts were last confirmed: %v\n", cerr)
	} else if contacts != nil {
		opts.Contacts = contacts.text
	}
	book, err := plandoc.New(ctx, plan, opts)
	if err != nil {
		return fmt.Errorf("plan doc: %w", err)
	}
	var buf bytes.Buffer
	if format.value == "markdown" {
		err = book.WriteMarkdown(&buf)
	} else {
		err = book.WriteHTML(&buf)
	}
	if err != nil {
		return fmt.Errorf("plan doc: %w", err)
	}
	if *out == "" || *out == "-" {
		_, err = c.stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFileAtomic(*out, buf.Bytes()); err != nil {
		return fmt.Errorf("plan doc: %w", err)
	}
	fmt.Fprintf(c.stderr, "plan doc: wrote %s (%s)\n", *out, plural(len(plan.ScenarioOrder), "scenario"))
	return nil
}

// formatOfOut is the format of the book: --format when given, else
// markdown for an --out FILE named .md or .markdown, else format.
func formatOfOut(fs *flag.FlagSet, format, out string) string {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "format" })
	if ext := strings.ToLower(filepath.Ext(out)); !given && (ext == ".md" || ext == ".markdown") {
		return "markdown"
	}
	return format
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader never sees half a book.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		// The temporary file's name means nothing to the reader: say
		// what could not be written, and why.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("write %s: the directory %s does not exist", path, filepath.Dir(path))
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
