package dev.ferry.controller;

/** An inclusive NodePort range such as {@code 30000-32767}. */
public record PortRange(int first, int last) {

  public static final PortRange DEFAULT = new PortRange(30000, 32767);

  public PortRange {
    if (first < 1 || last > 65535 || first > last) {
      throw new IllegalArgumentException(
          "port range " + first + "-" + last + " must lie within 1-65535, first <= last");
    }
  }

  /** Parses {@code FIRST-LAST}. */
  public static PortRange parse(String text) {
    String[] parts = text.trim().split("-", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException("port range '" + text + "' is not FIRST-LAST");
    }
    try {
      return new PortRange(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port range '" + text + "' is not FIRST-LAST", e);
    }
  }

  public int size() {
    return last - first + 1;
  }

  public boolean contains(int port) {
    return port >= first && port <= last;
  }

  @Override
  public String toString() {
    return first + "-" + last;
  }
}
