package mailinglist

import (
	"regexp"
	"strings"
)

// command is one command of a mail to NAME-request.
type command struct {
	Verb string // help, subscribe, unsubscribe, confirm
	Arg  string // the token of confirm
}

// Limits of the command reader.
const (
	maxCommands     = 10 // commands run from one mail
	maxUnknownLines = 3  // unknown lines before the reader stops
	maxCommandLines = 50 // lines read at most
)

var (
	confirmRE      = regexp.MustCompile(`(?i)\bconfirm\s+([a-z2-7]{16,64})\b`)
	replyPrefixRE  = regexp.MustCompile(`(?i)^\s*((re|fwd?|tr|aw|wg|sv|antw)\s*(\[\d+\])?\s*:\s*)+`)
	commandVerbs   = map[string]string{"help": "help", "aide": "help", "subscribe": "subscribe", "join": "subscribe", "unsubscribe": "unsubscribe", "leave": "unsubscribe", "confirm": "confirm"}
	commandEndings = map[string]bool{"end": true, "stop": true, "thanks": true, "merci": true, "fin": true}
)

// parseCommandLine reads one line as a command; ok is false when it is
// not one.
func parseCommandLine(line string) (c command, ok bool) {
	fields := strings.Fields(line)
	if len(fields) == 0 || len(fields) > 2 {
		return command{}, false
	}
	verb, known := commandVerbs[strings.ToLower(fields[0])]
	if !known {
		return command{}, false
	}
	if verb == "confirm" {
		if len(fields) != 2 {
			return command{}, false
		}
		m := confirmRE.FindStringSubmatch(line)
		if m == nil {
			return command{}, false
		}
		return command{Verb: verb, Arg: strings.ToLower(m[1])}, true
	}
	if len(fields) != 1 {
		return command{}, false
	}
	return command{Verb: verb}, true
}

// parseCommands reads the commands of a mail to NAME-request: the subject
// (a command, or a reply whose subject carries "confirm TOKEN"), then the
// body's lines until "end", a signature, a few unknown lines or enough
// commands. Quoted lines are skipped. Each command comes once.
func parseCommands(subject, body string) []command {
	var cmds []command
	add := func(c command) {
		for _, o := range cmds {
			if o == c {
				return
			}
		}
		cmds = append(cmds, c)
	}
	subj := replyPrefixRE.ReplaceAllString(subject, "")
	if c, ok := parseCommandLine(subj); ok {
		add(c)
	} else if m := confirmRE.FindStringSubmatch(subject); m != nil {
		add(command{Verb: "confirm", Arg: strings.ToLower(m[1])})
	}
	unknown := 0
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	for i, line := range lines {
		if i >= maxCommandLines || len(cmds) >= maxCommands || unknown >= maxUnknownLines {
			break
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ">") {
			continue
		}
		if line == "--" || strings.HasPrefix(line, "-- ") || commandEndings[strings.ToLower(line)] {
			break
		}
		if c, ok := parseCommandLine(line); ok {
			add(c)
			continue
		}
		unknown++
	}
	if len(cmds) > maxCommands {
		cmds = cmds[:maxCommands]
	}
	return cmds
}
