package dev.ferry.controller;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hands out NodePorts without collisions, like the API server's allocator: a bitmap over the range
 * and the owner (Service UID) of each port taken. Thread-safe. The state lives only in memory and
 * is rebuilt from the Services on start; the API server stays the judge (a 422 "already allocated"
 * marks a port taken).
 */
public final class NodePortAllocator {

  /** Why a port could not be had. */
  public enum Failure {
    FULL,
    TAKEN,
    OUT_OF_RANGE
  }

  /** A port request that failed; {@link #failure()} says why. */
  public static final class AllocationException extends Exception {
    private final Failure failure;
    private final int port;

    AllocationException(Failure failure, int port, String message) {
      super(message);
      this.failure = failure;
      this.port = port;
    }

    public Failure failure() {
      return failure;
    }

    /** The port asked for, or 0 for {@link Failure#FULL}. */
    public int port() {
      return port;
    }
  }

  private static final String UNKNOWN = "";

  private final PortRange range;
  private final BitSet used;
  private final Map<Integer, String> owners = new HashMap<>();
  private final Map<String, Set<Integer>> byOwner = new HashMap<>();
  private int cursor;

  public NodePortAllocator(PortRange range) {
    this.range = Objects.requireNonNull(range, "range");
    this.used = new BitSet(range.size());
  }

  public PortRange range() {
    return range;
  }

  /**
   * Takes {@code port} for {@code owner}; taking a port one already owns succeeds, and so does
   * taking one held by an unknown holder ({@link #markTaken}): the owner is who that was.
   */
  public synchronized void allocate(int port, String owner) throws AllocationException {
    if (!range.contains(port)) {
      throw new AllocationException(
          Failure.OUT_OF_RANGE, port, "port " + port + " is outside the NodePort range " + range);
    }
    String holder = owners.get(port);
    if (holder != null && !holder.equals(owner) && !holder.equals(UNKNOWN)) {
      throw new AllocationException(Failure.TAKEN, port, "port " + port + " is already allocated");
    }
    take(port, owner);
  }

  /**
   * What {@link #sync} did.
   *
   * @param released ports the owner held and no longer names, now free
   * @param taken ports the owner names that another owner holds
   */
  public record Synced(Set<Integer> released, Set<Integer> taken) {}

  /**
   * Makes {@code owner} hold exactly {@code ports} (those in range): ports it no longer names are
   * released at once, the others taken where free.
   */
  public synchronized Synced sync(String owner, Collection<Integer> ports) {
    Set<Integer> wanted = new TreeSet<>(ports);
    Set<Integer> released = new TreeSet<>();
    for (Integer held : List.copyOf(byOwner.getOrDefault(owner, Set.of()))) {
      if (!wanted.contains(held)) {
        release(held);
        released.add(held);
      }
    }
    Set<Integer> clashes = new TreeSet<>();
    for (int port : wanted) {
      try {
        allocate(port, owner);
      } catch (AllocationException e) {
        if (e.failure() == Failure.TAKEN) {
          clashes.add(port);
        }
      }
    }
    return new Synced(released, clashes);
  }

  private void take(int port, String owner) {
    String previous = owners.put(port, owner);
    if (previous != null && !previous.equals(owner)) {
      dropFromOwner(previous, port);
    }
    used.set(port - range.first());
    byOwner.computeIfAbsent(owner, o -> new HashSet<>()).add(port);
  }

  private void dropFromOwner(String owner, int port) {
    Set<Integer> held = byOwner.get(owner);
    if (held != null && held.remove(port) && held.isEmpty()) {
      byOwner.remove(owner);
    }
  }

  /** Takes the next free port for {@code owner}. */
  public synchronized int allocateNext(String owner) throws AllocationException {
    int size = range.size();
    int offset = used.nextClearBit(cursor);
    if (offset >= size) {
      offset = used.nextClearBit(0);
    }
    if (offset >= size) {
      throw new AllocationException(
          Failure.FULL, 0, "the NodePort range " + range + " has no free port");
    }
    cursor = (offset + 1) % size;
    int port = range.first() + offset;
    take(port, owner);
    return port;
  }

  /**
   * Takes {@code count} free ports for {@code owner}, all or none: when the range cannot supply
   * them all, nothing is taken.
   */
  public synchronized List<Integer> allocateNext(String owner, int count)
      throws AllocationException {
    List<Integer> taken = new ArrayList<>(count);
    try {
      for (int i = 0; i < count; i++) {
        taken.add(allocateNext(owner));
      }
      return taken;
    } catch (AllocationException e) {
      taken.forEach(this::release);
      throw e;
    }
  }

  /** Marks {@code port} as held by someone Ferry does not know, e.g. after a 422 from the API. */
  public synchronized void markTaken(int port) {
    if (range.contains(port) && !used.get(port - range.first())) {
      take(port, UNKNOWN);
    }
  }

  public synchronized void release(int port) {
    if (range.contains(port)) {
      used.clear(port - range.first());
      String owner = owners.remove(port);
      if (owner != null) {
        dropFromOwner(owner, port);
      }
    }
  }

  /**
   * Releases every port {@code owner} holds, and returns them; costs the number of ports it holds.
   */
  public synchronized Set<Integer> releaseAll(String owner) {
    Set<Integer> held = byOwner.remove(owner);
    if (held == null) {
      return Set.of();
    }
    for (int port : held) {
      used.clear(port - range.first());
      owners.remove(port);
    }
    return held;
  }

  /** The owner of {@code port}, or null when it is free or held by someone unknown. */
  public synchronized String ownerOf(int port) {
    String owner = owners.get(port);
    return owner == null || owner.equals(UNKNOWN) ? null : owner;
  }

  public synchronized boolean isAllocated(int port) {
    return range.contains(port) && used.get(port - range.first());
  }

  public synchronized int allocatedCount() {
    return used.cardinality();
  }
}
