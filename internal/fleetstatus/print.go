package fleetstatus

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// maxMessage bounds a reason's message on one line of the tree.
const maxMessage = 120

// Print writes the tree, one object per line, aligned in columns: its
// name (indented under its parent), phase, counts, and for anything not
// Ready its reason and message.
func Print(w io.Writer, t Tree) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(indent, name string, s Status, counts string) {
		why := ""
		if !s.Ready {
			why = s.Reason
			if s.Message != "" {
				why += ": " + shorten(s.Message)
			}
		}
		phase := string(s.Phase)
		if phase == "" {
			phase = "-"
		}
		_, _ = fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\n", indent, name, phase, counts, why)
	}
	_, _ = fmt.Fprintln(tw, "NAME\tPHASE\tREADY\tREASON")
	if len(t.Projects) == 0 {
		_, _ = fmt.Fprintln(tw, "(nothing found)\t\t\t")
	}
	for _, p := range t.Projects {
		if p.Name == NoProject {
			_, _ = fmt.Fprintf(tw, "%s\t\t\t\n", p.Name)
		} else {
			line("", p.Name, p.Status, fmt.Sprintf("%d environments", len(p.Environments)))
		}
		for i, e := range p.Environments {
			lastEnv := i == len(p.Environments)-1
			_, _ = fmt.Fprintf(tw, "%s%s (%s)\t\t\t\n", branch("", lastEnv), e.Name, e.Namespace)
			envIndent := child("", lastEnv)
			for j, a := range e.Applications {
				lastApp := j == len(e.Applications)-1
				line(branch(envIndent, lastApp), a.Name, a.Status,
					fmt.Sprintf("servers %d/%d, models %d/%d", a.ReadyServers, a.Servers, a.ReadyModels, a.Models))
				appIndent := child(envIndent, lastApp)
				for k, s := range a.Items {
					counts := fmt.Sprintf("replicas %d/%d", s.AvailableReplicas, s.Replicas)
					if s.Models != "" {
						counts += ", models " + s.Models
					}
					line(branch(appIndent, k == len(a.Items)-1), s.Name, s.Status, counts)
				}
			}
		}
	}
	return tw.Flush()
}

func branch(indent string, last bool) string {
	if last {
		return indent + "└─ "
	}
	return indent + "├─ "
}

func child(indent string, last bool) string {
	if last {
		return indent + "   "
	}
	return indent + "│  "
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
