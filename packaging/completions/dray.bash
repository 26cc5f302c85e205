# bash completion for dray. The candidates come from dray itself
# (`dray __complete WORD... CURRENT`: its option table, the values its help
# names, image names from the compose file or folders here); this function
# only hands them to bash, and file or folder names when dray asks (":file",
# ":dir").
_dray()
{
    local cur=${COMP_WORDS[COMP_CWORD]} line kind=
    local IFS=$'\n'
    local -a out
    out=($("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    COMPREPLY=()
    for line in "${out[@]}"; do
        case $line in
            :file) kind=file ;;
            :dir) kind=dir ;;
            *) COMPREPLY+=("$line") ;;
        esac
    done
    [ "$cur" = "=" ] && cur=
    case $kind in
        file) COMPREPLY+=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null ;;
        dir) COMPREPLY+=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null ;;
    esac
    return 0
}
complete -F _dray dray
