# objtrigger - bash completion for objtrigger(1). The commands and their
# options are read from objtrigger's own usage (objtrigger help COMMAND),
# so they follow the installed version; plugin names from objtrigger
# plugins.

_objtrigger()
{
	local cur prev words cword
	_init_completion || return

	local i cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done
	if [[ -z $cmd ]]; then
		local cmds
		cmds=$("$1" help 2>/dev/null |
		    awk '$1 == "objtrigger" && $2 !~ /^-/ { print $2 }')
		COMPREPLY=($(compgen -W "help $cmds -v -h --help -V --version" \
		    -- "$cur"))
		return
	fi

	case $prev in
	-c | --config)
		_filedir xml
		return
		;;
	--log-format)
		COMPREPLY=($(compgen -W "text json" -- "$cur"))
		return
		;;
	--trigger | -t | -m | -C | -f | -p)
		return
		;;
	esac
	case $cmd in
	help)
		COMPREPLY=($(compgen -W "$("$1" help 2>/dev/null |
		    awk '$1 == "objtrigger" && $2 !~ /^-/ { print $2 }')" \
		    -- "$cur"))
		return
		;;
	once)
		# The first operand is a plugin, the others are paths.
		local n=0
		for ((i = i + 1; i < cword; i++)); do
			case ${words[i]} in
			-t | -m | -C | -f | -p) ((i++)) ;;
			-*) ;;
			*) ((n++)) ;;
			esac
		done
		if [[ $cur != -* && $n == 0 ]]; then
			COMPREPLY=($(compgen -W "$("$1" plugins 2>/dev/null |
			    awk '/^[^ ]/ { print $1 }')" -- "$cur"))
			return
		fi
		;;
	esac
	if [[ $cur == -* ]]; then
		local opts
		opts=$("$1" help "$cmd" 2>/dev/null | grep -o -- '-[-a-zA-Z]*' |
		    tr '\n' ' ')
		[[ " "$opts" " == *" -c "* ]] && opts+=" --config"
		COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
		return
	fi
	[[ $cmd == once ]] && _filedir
}
complete -F _objtrigger objtrigger
