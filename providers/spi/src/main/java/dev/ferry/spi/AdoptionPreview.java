package dev.ferry.spi;

import java.util.List;

/**
 * What adopting an existing load balancer would do ({@code ferry.dev/adopt}): the address it serves
 * on, which the Service keeps, and the changes {@code ensure} would make to bring it in line with
 * the Service's plan, one line each for people to read (empty when it already is). Since 1.4.
 */
public record AdoptionPreview(String address, List<String> changes) {

  public AdoptionPreview {
    Names.requireNonBlank(address, "address");
    changes = List.copyOf(changes);
  }
}
