# bash completion for clawss(8): commands, their options (read from `clawss CMD --help`,
# so they never drift from the binary), option values, and names: for watch and sample
# targets the named namespaces under /run/netns, the containers Docker or Podman runs,
# and pid:/netns:; for --container the containers the database has recorded.
# Installed as $(PREFIX)/share/bash-completion/completions/clawss; works without the
# bash-completion package too (`. clawss.bash`).

# _clawss_opts BIN CMD: the long options of one command (or of clawss itself, CMD empty)
_clawss_opts()
{
	local key=${2:-_}
	if [[ -z ${_clawss_opt_cache[$key]+set} ]]; then
		_clawss_opt_cache[$key]=$(
			if [[ -n $2 ]]; then "$1" "$2" --help; else "$1" --help; fi 2>/dev/null |
			sed -n -e 's/^  \(-[a-z]\), \(--[a-z-]*\).*/\1 \2/p' \
				-e 's/^  \(--[a-z-]*\).*/\1/p')
	fi
	printf '%s\n' ${_clawss_opt_cache[$key]}
}

# _clawss_commands BIN: the command names `clawss --help` lists
_clawss_commands()
{
	if [[ -z ${_clawss_cmd_cache+set} ]]; then
		_clawss_cmd_cache=$("$1" --help 2>/dev/null |
			sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')
	fi
	printf '%s\n' $_clawss_cmd_cache
}

# _clawss_targets: names a watch or sample target can be
_clawss_targets()
{
	local n
	for n in /run/netns/*; do
		[[ -e $n ]] && printf '%s\n' "${n##*/}"
	done
	if command -v docker >/dev/null 2>&1; then
		timeout 2 docker ps --format '{{.Names}}' 2>/dev/null
	elif command -v podman >/dev/null 2>&1; then
		timeout 2 podman ps --format '{{.Names}}' 2>/dev/null
	fi
	printf '%s\n' pid: netns:
}

# _clawss_recorded BIN DBARGS...: container names in the database (needs read access)
_clawss_recorded()
{
	local bin=$1
	shift
	"$bin" "$@" containers --format csv 2>/dev/null | sed -e '1d' -e 's/,.*//' -e 's/^"//'
}

# _clawss_reply CUR [PREFIX]: COMPREPLY from the lines on stdin that start with CUR, each
# as one word, PREFIX before it. Names come from /run/netns, the engine and the database,
# that is from containers: never through compgen -W, whose word list bash expands (a
# namespace named $(cmd) would run cmd, as root, at TAB), nor through an unquoted $(...)
# (split and globbed).
_clawss_reply()
{
	local line
	COMPREPLY=()
	while IFS= read -r line; do
		[[ -n $line && $line == "$1"* ]] && COMPREPLY+=("$2$line")
	done
	return 0
}

_clawss()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local bin=${COMP_WORDS[0]} cmd= i
	local -a dbargs=()
	declare -gA _clawss_opt_cache 2>/dev/null || true

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--db)
			dbargs=(--db "${COMP_WORDS[i + 1]}")
			((i++)) ;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break ;;
		esac
	done

	case $prev in
	--db | --allow | --cursor-file)
		_clawss_reply "$cur" < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
		return ;;
	--format)
		case $cmd in
		export) _clawss_reply "$cur" <<<jsonl ;;
		report) _clawss_reply "$cur" < <(printf '%s\n' table json csv html) ;;
		*) _clawss_reply "$cur" < <(printf '%s\n' table json csv) ;;
		esac
		return ;;
	--by)
		_clawss_reply "$cur" < <(printf '%s\n' destination container)
		return ;;
	--container)
		_clawss_reply "$cur" < <(_clawss_recorded "$bin" "${dbargs[@]}")
		return ;;
	--interval | --for | --refresh | --retain | --idle | --burst-max | --older-than | --since | \
	--until | --name | --label)
		return ;;   # a value of the user's own
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_clawss_reply "$cur" < <(_clawss_opts "$bin" '')
		else
			_clawss_reply "$cur" < <(_clawss_commands "$bin")
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		_clawss_reply "$cur" < <(_clawss_opts "$bin" "$cmd")
		return
	fi
	case $cmd in
	watch | sample)
		if [[ $cur == netns:* ]]; then
			_clawss_reply "${cur#netns:}" netns: < <(compgen -f -- "${cur#netns:}")
		elif [[ $cur == pid:* ]]; then
			_clawss_reply "${cur#pid:}" pid: < <(ls /proc 2>/dev/null | grep '^[0-9]')
		else
			_clawss_reply "$cur" < <(_clawss_targets)
			[[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *: ]] &&
				compopt -o nospace 2>/dev/null
		fi ;;
	esac
}

complete -F _clawss clawss
