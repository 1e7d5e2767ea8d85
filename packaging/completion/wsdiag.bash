# bash completion for wsdiag(1)
_wsdiag() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    --format) COMPREPLY=($(compgen -W "text json jsonl markdown table" -- "$cur")); return ;;
    --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
    -i|--interface) COMPREPLY=($(compgen -W "any $(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
    -Z|--relinquish-privileges) COMPREPLY=($(compgen -u -- "$cur")); return ;;
    --streams) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    -r|--read|-o|--output|-w|--write|--save-pcap) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -f|--filter|--conn|--ws-port|--tls-keylog|--fail-on|--only|--max-connections|--ooo-limit|--threads|-s|--snaplen|\
    -B|--buffer-size|-c|--count|--duration|--idle-timeout|--metrics) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "-h --help -V --version -r --read -f --filter --format -o --output --conn
      --ws-port --tls-keylog --no-redact --anonymize --payload --fail-on --only --save-pcap --all --frames --streams --color --max-connections --ooo-limit --no-progress
      --threads --rules -i --interface -D --list-interfaces -s --snaplen -B --buffer-size -p
      --no-promiscuous-mode -c --count --duration -w --write -Z --relinquish-privileges
      --idle-timeout --metrics" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _wsdiag wsdiag
