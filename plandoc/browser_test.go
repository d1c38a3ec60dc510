package plandoc_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/drbot-dev/drbot/internal/browsertest"
)

// TestBookInBrowser opens the HTML book in Chromium: every flowchart is
// drawn (a node per step, the start and the end; the worst-case path's
// edges marked), and printing it puts every scenario on a page of its
// own. With -update-images it takes the README's picture of a flowchart.
func TestBookInBrowser(t *testing.T) {
	_, b := testBook(t, "testdata/book.yaml")
	ctx := browsertest.New(t)
	url := writeBook(t, b)

	var nodes, worstEdges, decisions, approvals int
	var counts []int
	err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.Evaluate(`document.querySelectorAll('#scenario-db-corruption svg g.node').length`, &nodes),
		chromedp.Evaluate(`document.querySelectorAll('#scenario-db-corruption svg g.edge.worst').length`, &worstEdges),
		chromedp.Evaluate(`document.querySelectorAll('#scenario-db-corruption svg g.node.decision').length`, &decisions),
		chromedp.Evaluate(`document.querySelectorAll('#scenario-db-corruption svg g.node.approval').length`, &approvals),
		// Each chart is drawn at a size: its bounding box is not empty.
		chromedp.Evaluate(`[...document.querySelectorAll('figure.chart svg')].map(s => Math.round(s.getBoundingClientRect().height))`, &counts),
	)
	if err != nil {
		t.Fatal(err)
	}
	// 4 steps, the start and the end; worst path start→assess→restore→verify→end.
	if nodes != 6 || worstEdges != 4 || decisions != 1 || approvals != 1 {
		t.Errorf("db-corruption chart: %d nodes, %d worst edges, %d decisions, %d approvals; want 6, 4, 1, 1", nodes, worstEdges, decisions, approvals)
	}
	if len(counts) != 3 {
		t.Errorf("%d charts drawn, want 3 (the dependencies and two scenarios)", len(counts))
	}
	for i, h := range counts {
		if h < 50 {
			t.Errorf("chart %d is %dpx high", i, h)
		}
	}

	var pdf []byte
	err = chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		pdf, _, err = page.PrintToPDF().WithPreferCSSPageSize(true).Do(ctx)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	// Cover, contacts, services, one page per scenario, schedules and
	// findings.
	if got, want := browsertest.PDFPages(t, pdf), 4+len(b.Scenarios); got != want {
		t.Errorf("printed book has %d pages, want %d (each scenario on its own page)", got, want)
	}

	if *browsertest.UpdateImages {
		flowchartImage(t, ctx)
	}
}

// flowchartImage pictures a scenario of the example plan for the README.
func flowchartImage(t *testing.T, ctx context.Context) {
	_, ex := testBook(t, filepath.Join("..", "examples", "plan.yaml"))
	var png []byte
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(900, 1200),
		chromedp.Navigate(writeBook(t, ex)),
		chromedp.ScreenshotScale(`#scenario-db-corruption figure.chart`, 1.5, &png, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.WriteImage(t, "..", "plan-flowchart.png", png)
}

func writeBook(t *testing.T, b interface{ WriteHTML(w io.Writer) error }) string {
	t.Helper()
	var buf bytes.Buffer
	if err := b.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "book.html")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + f
}
