package dev.ferry.provider.local;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hands out load-balancer addresses from a block. A Service gets back the address its status shows
 * when that is free (a restarted process keeps every address); otherwise the first pick is derived
 * from its UID and collisions probe on.
 */
final class AddressPool {

  /** The holder of an address kept after its Service went (see {@link #retain}). */
  static final String RETAINED = "\u0000retained";

  private final Cidr block;
  private final Map<InetAddress, String> holders = new HashMap<>();

  AddressPool(Cidr block) {
    if (block.size() < 4) {
      throw new IllegalArgumentException("address pool " + block + " is too small");
    }
    this.block = block;
  }

  Cidr block() {
    return block;
  }

  /**
   * Takes {@code requested} for {@code owner} (free, or retained: the caller checked it is the
   * owner's cluster's); else the first of {@code previous} (the addresses the Service showed) that
   * is in the pool and free; else an address derived from the owner.
   */
  synchronized InetAddress take(
      String owner, Optional<InetAddress> requested, List<InetAddress> previous) {
    if (requested.isPresent()) {
      InetAddress want = requested.get();
      String holder = holders.get(want);
      if (!block.contains(want)
          || (holder != null && !holder.equals(owner) && !holder.equals(RETAINED))) {
        throw new IllegalArgumentException(Cidr.text(want));
      }
      holders.put(want, owner);
      return want;
    }
    for (InetAddress had : previous) {
      String holder = holders.get(had);
      if (block.contains(had) && (holder == null || holder.equals(owner))) {
        holders.put(had, owner);
        return had;
      }
    }
    long usable = Math.min(block.size() - 2, 1 << 20); // skip the block's first and last address
    long start = Math.floorMod(owner.hashCode(), usable);
    for (long i = 0; i < usable; i++) {
      InetAddress candidate = block.address(1 + (start + i) % usable);
      String holder = holders.putIfAbsent(candidate, owner);
      if (holder == null || holder.equals(owner)) {
        return candidate;
      }
    }
    throw new IllegalStateException("address pool " + block + " is exhausted");
  }

  synchronized void release(InetAddress address, String owner) {
    holders.remove(address, owner);
  }

  /** Keeps {@code address} from every pick but an explicit request, once its holder lets go. */
  synchronized void retain(InetAddress address) {
    holders.putIfAbsent(address, RETAINED);
  }

  /** Lets {@code address} go, whoever holds it. */
  synchronized void free(InetAddress address) {
    holders.remove(address);
  }

  /** Who holds {@code address}, or null. */
  synchronized String holder(InetAddress address) {
    return holders.get(address);
  }

  /** Whether anyone holds {@code address}. */
  synchronized boolean held(InetAddress address) {
    return holders.containsKey(address);
  }

  /** Whether {@code address} is retained and no Service serves on it. */
  synchronized boolean idle(InetAddress address) {
    return RETAINED.equals(holders.get(address));
  }
}
