package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/drbot-dev/drbot/internal/browsertest"
)

// TestPagesInBrowser opens the pages in Chromium: the countdown moves on
// its own and turns amber and red at the plan's thresholds, the step chart
// is drawn, and a visit without a session is refused.
func TestPagesInBrowser(t *testing.T) {
	s := newSite(t, false)
	ctx := browsertest.New(t)

	var first, moved, elapsed, class, finish, left string
	var actual, deadline int
	var changed bool
	var height float64
	err := chromedp.Run(ctx,
		chromedp.Navigate(s.srv.URL+"/incidents/2"),
		chromedp.Evaluate(textOf(`.countdown .elapsed`), &first),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(ctx,
		// The script moves it every second, from the server's clock on
		// (Poll needs somewhere to put its result, or it does not wait).
		chromedp.Poll(`document.querySelector('.countdown .elapsed').textContent !== `+quote(first), &changed, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Evaluate(textOf(`.countdown .elapsed`), &moved),
		chromedp.Evaluate(`document.querySelectorAll('.stepchart rect.actual').length`, &actual),
		chromedp.Evaluate(`document.querySelectorAll('.stepchart line.deadline').length`, &deadline),
		chromedp.Evaluate(`document.querySelector('.stepchart svg').getBoundingClientRect().height`, &height),
	)
	if err != nil {
		t.Fatal(err)
	}
	if first != "50m" || !strings.HasPrefix(moved, "50m") || moved == first {
		t.Errorf("countdown %q then %q: want 50m moving on (50m1s ...)", first, moved)
	}
	// Two steps walked (assess, restore running), verify still ahead.
	if actual != 2 || deadline != 1 || height < 100 {
		t.Errorf("step chart: %d actual bars, %d deadline lines, %.0fpx high; want 2, 1, drawn", actual, deadline, height)
	}

	// An hour on (50m+60m of 2h: 91%) it is red, over the 90% threshold;
	// at 1h (50%) amber. The restore overruns: the finish slides.
	declared := s.clock.Now().Add(-50 * time.Minute).UnixMilli()
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{{10 * time.Minute, "level-amber"}, {60 * time.Minute, "level-red"}} {
		err = chromedp.Run(ctx,
			chromedp.Evaluate(`drbotTick(`+itoa(declared+(50*time.Minute+tc.after).Milliseconds())+`)`, nil),
			chromedp.Evaluate(textOf(`.countdown .elapsed`), &elapsed),
			chromedp.Evaluate(`document.querySelector('.countdown').className`, &class),
			chromedp.Evaluate(textOf(`.countdown .finish`), &finish),
			chromedp.Evaluate(textOf(`.countdown .left`), &left),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(class, tc.want) {
			t.Errorf("after %s more: class %q, want %s (elapsed %s)", tc.after, class, tc.want, elapsed)
		}
	}
	// At 1h50m the restore (started at 8m, 1h) is 42m over: finish =
	// now + verify's 10m = declared + 2h, 14:25 CET.
	if elapsed != "1h50m" || left != "10m left" || !strings.Contains(finish, "14:25") {
		t.Errorf("at +1h: elapsed %q, %q, finish %q; want 1h50m, 10m left, 14:25", elapsed, left, finish)
	}

	if *browsertest.UpdateImages {
		var png []byte
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(900, 1400), chromedp.Navigate(s.srv.URL+"/incidents/2"),
			chromedp.FullScreenshot(&png, 100)); err != nil {
			t.Fatal(err)
		}
		browsertest.WriteImage(t, "..", "incident-page.png", png)
	}

	// Behind a sign-in, a visit without a session is refused and told how.
	locked := newSite(t, true)
	var text string
	if err := chromedp.Run(ctx, chromedp.Navigate(locked.srv.URL+"/incidents/1"), chromedp.Evaluate(textOf(`main`), &text)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Sign in to drbot") || !strings.Contains(text, "/incident web") || strings.Contains(text, "Corrupted") {
		t.Errorf("a visit without a session shows:\n%s", text)
	}
}

// textOf is a script that reads the text of the first element matching
// selector, as it is now.
func textOf(selector string) string {
	return `document.querySelector(` + quote(selector) + `).textContent.trim()`
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
