package dev.ferry.provider.aws;

import java.util.Set;
import java.util.TreeSet;

/** What to add and remove to turn {@code actual} into {@code desired}. Pure. */
record SetDiff<T>(Set<T> add, Set<T> remove) {

  static <T extends Comparable<T>> SetDiff<T> of(Set<T> desired, Set<T> actual) {
    Set<T> add = new TreeSet<>(desired);
    add.removeAll(actual);
    Set<T> remove = new TreeSet<>(actual);
    remove.removeAll(desired);
    return new SetDiff<>(add, remove);
  }

  boolean isEmpty() {
    return add.isEmpty() && remove.isEmpty();
  }
}
