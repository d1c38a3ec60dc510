package playbooks

import (
	"fmt"
	"strings"
)

// "Did you mean": the suggestion added to a message about a misspelt key
// or id.

// suggestKey says which known key a misspelt one probably is, or lists
// the keys.
func suggestKey(got string, known []string) string {
	if k := Closest(got, known); k != "" {
		return fmt.Sprintf("; did you mean %q?", k)
	}
	return "; want one of " + strings.Join(known, ", ")
}

// suggestID says which defined id a misspelt reference probably is, or
// lists the defined ones when there are few.
func suggestID(got, kind string, defined []string) string {
	if k := Closest(got, defined); k != "" {
		return fmt.Sprintf("; did you mean %q?", k)
	}
	switch {
	case len(defined) == 0:
		return fmt.Sprintf("; no %s is defined", kind)
	case len(defined) <= 12:
		return fmt.Sprintf("; defined: %s", strings.Join(defined, ", "))
	}
	return ""
}

// Closest returns the candidate a person probably meant by got, or "": the
// one equal to it but for case, else the nearest within a small edit
// distance (swaps of neighbours count one), ignoring case; a got of four
// characters or more is also compared with the start of each candidate,
// so that "db-c" finds "db-corruption". It is the one "did you mean" of
// drbot: plan check and /incident declare both use it.
func Closest(got string, candidates []string) string {
	best, bestD := "", 3
	if len(got) <= 4 {
		bestD = 2
	}
	lg := strings.ToLower(got)
	for _, c := range candidates {
		if strings.EqualFold(c, got) {
			return c
		}
		lc := strings.ToLower(c)
		d := editDistance(lg, lc)
		if len(lg) >= 4 && len(lc) > len(lg) {
			d = min(d, editDistance(lg, lc[:len(lg)]))
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// in bytes: Levenshtein plus swaps of neighbours ("bbo" for "bob"), the
// commonest typo.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64 // no typo suggestion for long strings; keeps this cheap
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
