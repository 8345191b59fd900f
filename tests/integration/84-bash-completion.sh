#!/usr/bin/env bash
# timeout: 60
# contrib/bash-completion/flowacct against this flowacct's --help: every option --help
# names is offered, and only those; an option whose line shows a value (--pid PID) is
# followed by its value, not by options; the values of --sort, --backend, --by and
# --tpacket-version are exactly the ones --help lists; --packets= offers the interfaces
# of /sys/class/net. A flowacct whose --help has an option more completes it with no edit
# of the file (the options are read from --help at completion time).
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup bash-completion bash
comp=$root/contrib/bash-completion/flowacct
[ -f "$comp" ] || fail "no $comp"
help=$("$flowacct" --help)

# complete CMD WORD...: what the completion offers for the last WORD (COMPREPLY, one per
# line, sorted), in a fresh bash that sourced only the file, in an empty directory (file
# names are offered after --json-file)
complete_words() {
	(cd "$tmp/empty" && bash -c 'source "$1"; shift
		complete -p flowacct >/dev/null || exit 9
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _flowacct
		printf "%s\n" "${COMPREPLY[@]}"' sh "$comp" "$@") | LC_ALL=C sort
}
mkdir "$tmp/empty"
words() { tr ' ,' '\n\n' | sed '/^$/d' | LC_ALL=C sort -u; }

out=$(bash -c 'source "$1"; complete -p flowacct' sh "$comp") || fail "sourcing $comp failed"
[ "$out" = "complete -F _flowacct flowacct" ] || fail "complete -p flowacct says '$out'"

### the options: all of --help's, nothing else
want=$(grep -oE -- '(^|[ ,(])--?[a-zA-Z0-9][a-zA-Z0-9.-]*' <<<"$help" | sed 's/^[ ,(]//' | LC_ALL=C sort -u)
got=$(complete_words "$flowacct" -)
[ "$got" = "$want" ] || fail "for '-' the completion offers (<) what --help does not name, or misses (>):
$(diff <(echo "$got") <(echo "$want") || true)"
for long in $(grep -- '^--' <<<"$want"); do
	grep -qx -- "$long" <<<"$(complete_words "$flowacct" "${long:0:5}")" ||
		fail "$long is not offered for '${long:0:5}'"
done
echo "PASS options: the $(wc -l <<<"$want") of --help, each offered by its prefix"

### options with a value: the word after them is not an option
# the option lines' own form, "  -p, --pid PID  description" (the value after one space,
# with a capital, a digit or '|')
valued=$(sed -nE 's/^ +((-[-a-zA-Z0-9.]+)(, -[-a-zA-Z0-9.]+)*) [][A-Za-z0-9:|_-]*[A-Z0-9|][][A-Za-z0-9:|_-]*( .*)?$/\1/p' <<<"$help" | words)
[ -n "$valued" ] || fail "no option line of --help shows a value: the form changed?"
for opt in $valued; do
	if grep -q -- '^-' <<<"$(complete_words "$flowacct" "$opt" -)"; then
		fail "after $opt (it takes a value) the completion offers options"
	fi
done
echo "PASS the $(wc -w <<<"$valued") options with a value are followed by a value"

### the values: exactly those --help lists
# the description of OPTION (its line and the continuation lines after it), parenthesized
# remarks taken out: "rx, tx, total, pid, comm, retrans, rtt"
description() {
	awk -v opt="$1" '
		found { if ($0 ~ /^                    +[^ -]/) { sub(/^ +/, ""); text = text " " $0; next } else exit }
		$0 ~ "^ +(-[^ ]+, )*" opt " " {
			found = 1
			text = substr($0, index($0, opt " ") + length(opt) + 1)
			sub(/^[^ ]+ +/, "", text) # past the value, as KEY
		}
		END { print text }' <<<"$help" | sed -E ':a; s/\([^()]*\)//g; ta'
}
check_values() { # option want-list what
	local got
	got=$(complete_words "$flowacct" "$1" "")
	[ "$got" = "$(words <<<"$2")" ] || fail "--$3: the completion offers '$(echo $got)', --help lists '$(words <<<"$2" | tr '\n' ' ')'"
	echo "PASS $1 completes $(echo $got)"
}
check_values --sort "$(description --sort)" sort
check_values -s "$(description --sort)" sort
check_values --backend "$(description --backend)" backend
# "one row per flow, process, service, container, or cgroup": each item's last word
by=$(description --by | tr ',' '\n' | awk 'NF { print $NF }' | tr '\n' ' ')
check_values --by "$by" by
check_values --tpacket-version "$(sed -nE 's/^ +--tpacket-version ([0-9|]+) .*/\1/p' <<<"$help" | tr '|' ' ')" \
	tpacket-version
ifaces=$(ls /sys/class/net | LC_ALL=C sort)
[ "$(complete_words "$flowacct" --packets = "")" = "$ifaces" ] || fail "--packets= does not offer $ifaces"
[ "$(complete_words "$flowacct" --packets=l)" = "$(grep '^l' <<<"$ifaces" | sed 's/^/--packets=/')" ] ||
	fail "--packets=l does not offer the interfaces starting with l, as --packets=NAME"
# an option whose value --help calls IFACE (-i, --interface) completes them too
for opt in $(sed -nE 's/^ +((-[-a-zA-Z0-9.]+)(, -[-a-zA-Z0-9.]+)*) IFACE( .*)?$/\1/p' <<<"$help" | words); do
	[ "$(complete_words "$flowacct" "$opt" "")" = "$ifaces" ] || fail "$opt does not offer $ifaces"
	echo "PASS $opt completes the interfaces"
done
[ -z "$(complete_words "$flowacct" --packets "")" ] ||
	fail "a word after --packets (the interval, not its interface) gets interfaces"
echo "PASS --packets= completes the interfaces: $(echo $ifaces)"
[ -z "$(complete_words "$flowacct" -b 5 "")" ] || fail "after the interval the completion offers something"

### an option --help gains completes without an edit here
cat >"$tmp/flowacct" <<EOF
#!/bin/sh
cat <<'HELP'
$help
      --brand-new LEVEL  an option this file has never seen
HELP
EOF
chmod +x "$tmp/flowacct"
grep -qx -- --brand-new <<<"$(complete_words "$tmp/flowacct" --bra)" || fail "--brand-new is not offered"
[ -z "$(complete_words "$tmp/flowacct" --brand-new "")" ] || fail "after --brand-new LEVEL something is offered"
echo "PASS a new option of --help completes, and takes its value"
