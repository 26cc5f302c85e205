# fish completion for dray: candidates from `dray __complete WORD... CURRENT`
# (see dray.bash); ":file" / ":dir" ask for file or folder names too.
function __dray_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    for line in (command $words[1] __complete $words[2..-1] "$cur" 2>/dev/null)
        switch $line
            case :file
                __fish_complete_path "$cur"
            case :dir
                __fish_complete_directories "$cur"
            case '*'
                echo $line
        end
    end
end
complete -c dray -f -a '(__dray_complete)'
