# Sourced by ./mvnw, ./ferry and .ci/run: makes JAVA_HOME point at a JDK >= 21.
# Keeps a JAVA_HOME (or a java on PATH) that is new enough; otherwise takes the
# newest JDK >= 21 from the usual install locations. Prints why when none is found.
ferry_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

ferry_select_jdk() {
  local want=21 candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    major=$(ferry_java_major "$JAVA_HOME/bin/java")
    [ "${major:-0}" -ge "$want" ] && return 0
  fi
  if command -v java >/dev/null 2>&1; then
    major=$(ferry_java_major java)
    if [ "${major:-0}" -ge "$want" ]; then
      JAVA_HOME=$(cd "$(dirname "$(readlink -f "$(command -v java)")")/.." && pwd)
      export JAVA_HOME
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
    "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* \
    /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$candidate/bin/javac" ] || continue
    major=$(ferry_java_major "$candidate/bin/java")
    if [ "${major:-0}" -ge "$want" ] && [ "$major" -gt "$best_major" ]; then
      best=$candidate
      best_major=$major
    fi
  done
  if [ -z "$best" ]; then
    echo "Ferry needs a JDK >= $want; none found (JAVA_HOME=${JAVA_HOME:-unset}, java on PATH: $(command -v java || echo none))." >&2
    echo "Install one (e.g. Temurin 21 or newer) and set JAVA_HOME to it." >&2
    return 1
  fi
  export JAVA_HOME=$best
}
