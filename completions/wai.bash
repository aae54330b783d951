_wai_completion() {
    local IFS=$'\n'
    COMPREPLY=( $( env COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" \
                   COMP_WORDBREAKS="$COMP_WORDBREAKS" \
                   _WAI_COMPLETE=complete_bash "$1" ) )
    return 0
}

complete -o default -F _wai_completion wai
