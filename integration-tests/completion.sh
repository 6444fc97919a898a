#!/bin/sh
# completion.sh - the bash completion offers the commands objtrigger has,
# each command's options as its usage lists them (and --config where it
# takes -c), the log formats, the plugins for once, XML files after -c.
. "$top_srcdir/integration-tests/lib.sh"

lib=/usr/share/bash-completion/bash_completion
command -v bash >/dev/null || skip "no bash"
[ -r "$lib" ] || skip "no bash-completion (build-aux/deps.sh lists it)"
touch a.xml b.txt
cat >complete.bash <<'EOF2'
. "$1"
. "$2"
# comp WORD...: what completing the last word offers, sorted, one line.
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_objtrigger "$OBJTRIGGER" "${COMP_WORDS[COMP_CWORD]}" \
	    "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
	echo
}
echo "1:  $(comp objtrigger '')"
echo "2:  $(comp objtrigger re)"
echo "3:  $(comp objtrigger check -)"
echo "4:  $(comp objtrigger run --log-format '')"
echo "5:  $(comp objtrigger once '')"
echo "6:  $(comp objtrigger stop -c '')"
echo "7:  $(comp objtrigger plugins -)"
EOF2
run 0 bash complete.bash "$lib" "$top_srcdir/completion/objtrigger.bash"
cat "$T/stdout"
# offers N WORD...: line N of the output offers each WORD.
offers() {
	_n=$1
	shift
	for _w in "$@"; do
		grep "^$_n: " "$T/stdout" | grep -q -- " $_w " ||
		    fail "completion $_n does not offer $_w"
	done
}
offers 1 run check status retry reload stop plugins once help --help --version
offers 2 reload retry
offers 3 -c --config -v --connect --help
offers 4 json text
offers 5 copy exec
offers 6 a.xml
offers 7 --help
grep -q '^2:  reload retry $' "$T/stdout" || fail "re offers more"
! grep '^6: ' "$T/stdout" | grep -q b.txt || fail "-c offers a .txt"
! grep '^7: ' "$T/stdout" | grep -q -- --config || fail "plugins takes no --config"
