# Bash completion for gitvisor. Source it, or install it as /usr/share/bash-completion/completions/gitvisor.
#
# Completes the commands (read from `gitvisor help`), the global flags, each command's flags, unit names
# (from `gitvisor --json list`) and commits (short hashes from `gitvisor --json history`). The daemon is
# asked through the --socket given earlier on the line, else $GITVISOR_SOCKET, else the default socket,
# as the command itself would; when it does not answer, nothing is offered. Needs no bash-completion
# package.

# The commands listed by `gitvisor help` ("  start|stop|restart UNIT..." gives three), read once.
_gitvisor_commands() {
    if [[ -z ${_gitvisor_command_list-} ]]; then
        _gitvisor_command_list=$("$1" help 2>/dev/null |
            sed -n '/^commands:/,/^$/{s/^  \([a-z][a-z|-]*\).*/\1/p}' | tr '|' '\n' | sort -u | tr '\n' ' ')
        _gitvisor_command_list+="help"
    fi
    printf '%s\n' "$_gitvisor_command_list"
}

# Runs `gitvisor [--socket PATH] --json ARGS...` against the daemon this command line names, for at most
# two seconds, without a word on stderr.
_gitvisor_ask() {
    local program=$1 socket=$2
    shift 2
    local -a cmd=("$program")
    [[ -n $socket ]] && cmd+=(--socket "$socket")
    if type -P timeout >/dev/null; then
        timeout 2 "${cmd[@]}" --json "$@" 2>/dev/null
    else
        "${cmd[@]}" --json "$@" 2>/dev/null
    fi
}

# Unit names of the deployed commit (the unit objects' "name", at the top level of the list).
_gitvisor_units() {
    _gitvisor_ask "$1" "$2" list | sed -n 's/^    "name": "\([^"]*\)".*/\1/p'
}

# Short hashes of the commits of the last 50 deploys, newest first.
_gitvisor_commits() {
    _gitvisor_ask "$1" "$2" history -n 50 | sed -n 's/^    "commit": "\([0-9a-f]\{7\}\)[0-9a-f]*".*/\1/p' |
        awk '!seen[$0]++'
}

_gitvisor() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local program=${COMP_WORDS[0]}
    [[ $program == \~/* ]] && program=$HOME/${program#\~/}
    COMPREPLY=()

    # The words before the cursor: the global flags (--socket PATH, --socket=PATH, --json; gitvisor takes
    # them anywhere on the line), the command and its arguments. Bash splits "--socket=PATH" into
    # "--socket" "=" "PATH".
    local socket="" command="" i=1 word
    local -a args=()
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        if [[ $word == --socket ]]; then
            if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
                ((i + 2 < COMP_CWORD)) && socket=${COMP_WORDS[i + 2]}
                ((i += 3))
            else
                ((i + 1 < COMP_CWORD)) && socket=${COMP_WORDS[i + 1]}
                ((i += 2))
            fi
            continue
        elif [[ $word == --socket=* ]]; then
            socket=${word#--socket=}
        elif [[ $word == --json && $command != verify ]]; then
            :
        elif [[ -z $command && $word == -* ]]; then
            :
        elif [[ -z $command ]]; then
            command=$word
        else
            args+=("$word")
        fi
        ((i++))
    done
    [[ $socket == \~/* ]] && socket=$HOME/${socket#\~/}

    # The value of --socket, before or after the "=".
    if [[ $prev == --socket || ($prev == = && ${COMP_WORDS[COMP_CWORD - 2]-} == --socket) ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
    fi
    [[ $cur == = && $prev == --socket ]] && return 0

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--socket --json --help" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_gitvisor_commands "$program")" -- "$cur")
        fi
        return 0
    fi

    local flags="" values=""
    case $command in
        status | start | stop | restart | reload | cat | why | reset-failed)
            values=$(_gitvisor_units "$program" "$socket")
            ;;
        kill)
            case $prev in
                -s | --signal)
                    values="HUP INT QUIT KILL USR1 USR2 TERM CONT STOP SIGHUP SIGINT SIGQUIT SIGKILL SIGUSR1 SIGUSR2
                            SIGTERM SIGCONT SIGSTOP"
                    mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
                    return 0
                    ;;
                --kill-whom)
                    mapfile -t COMPREPLY < <(compgen -W "main all" -- "$cur")
                    return 0
                    ;;
            esac
            flags="-s --signal --kill-whom"
            values=$(_gitvisor_units "$program" "$socket")
            ;;
        logs)
            case $prev in
                -n | --since | --until | --invocation) return 0 ;;
            esac
            flags="-n -f --since --until --invocation --json"
            values=$(_gitvisor_units "$program" "$socket")
            ;;
        history)
            [[ $prev == -n ]] && return 0
            flags="-n"
            ;;
        events)
            [[ $prev == -n ]] && return 0
            flags="-n -f"
            ;;
        rollback)
            ((${#args[@]} > 0)) && return 0
            flags="--unpin"
            values=$(_gitvisor_commits "$program" "$socket")
            ;;
        diff)
            ((${#args[@]} > 0)) && return 0
            values=$(_gitvisor_commits "$program" "$socket")
            ;;
        sync)
            if ((${#args[@]} == 0)); then
                flags="--force"
            elif [[ ${#args[@]} -eq 1 && ${args[0]} == --force ]]; then
                values=$(_gitvisor_commits "$program" "$socket")
            else
                return 0
            fi
            ;;
        init)
            [[ $prev == --branch ]] && return 0
            flags="--bare --branch"
            if [[ $cur != -* ]]; then
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            fi
            ;;
        verify)
            case $prev in
                --commit) return 0 ;;
                --repo | --print) ;;
                *) flags="--repo --commit --staged --print --list-directives --json" ;;
            esac
            if [[ $cur != -* || -z $flags ]]; then
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                return 0
            fi
            ;;
        *)
            return 0
            ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
    elif [[ -n $values ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
    fi
    return 0
}

complete -F _gitvisor gitvisor
