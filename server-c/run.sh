# Lesson 9: the learner's ServerC.c built as the lesson builds it (gcc -o ServerC -lc ServerC.c) into
# /build, a small tmpfs that may hold a program (the root is read-only and /tmp may not run one), then
# run line-buffered: its stdout is a pipe here, not a terminal, so printf's lines would stay in their
# buffer and docker logs would show nothing (the lesson's terminal is line-buffered; stdbuf -oL is the
# same, and setvbuf(stdout, NULL, _IOLBF, 0) would be the one-line fix in the program itself).
# SERVER_CFLAGS (make lab SERVER=c STRICT=1: -Werror=implicit-function-declaration, one fixed value the lab
# checks) makes gcc 12 stop where clang and gcc 14 stop, at the lesson's missing #include <unistd.h>.
# Its arguments are the lab's (--port=...): the lesson's main takes none, and they change nothing.
set -e
cd /build
gcc $SERVER_CFLAGS -o ServerC -lc /app/ServerC.c
exec stdbuf -oL ./ServerC "$@"
