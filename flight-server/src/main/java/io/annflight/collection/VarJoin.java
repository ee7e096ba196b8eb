package io.annflight.collection;

import io.annflight.schema.JoinMode;
import io.annflight.schema.RequestException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * How each store's variables map onto the joint variables, computed once per plan. The maps
 * are scatter maps: {@code storeToJoint(s)[c]} is the output position of the store's column c,
 * or -1 when the column is dropped (inner join); null means identity (no join needed).
 */
public final class VarJoin {
  private final JoinMode effective;
  private final List<String> joint;
  private final int[][] storeToJoint;
  private final Integer width;
  private final List<String> unmatched;

  private VarJoin(JoinMode effective, List<String> joint, int[][] storeToJoint, Integer width) {
    this(effective, joint, storeToJoint, width, List.of());
  }

  private VarJoin(JoinMode effective, List<String> joint, int[][] storeToJoint, Integer width,
      List<String> unmatched) {
    this.effective = effective;
    this.joint = joint;
    this.storeToJoint = storeToJoint;
    this.width = width;
    this.unmatched = unmatched;
  }

  /**
   * A fixed vocabulary ({@code var_names}): the output columns are exactly {@code vocabulary},
   * in its order; a store's variable outside it is dropped, a name a store lacks is 0 for its
   * rows. A store naming one variable twice is refused (its columns would land on one place).
   */
  public static VarJoin onto(List<String> vocabulary, List<List<String>> varLists,
      List<String> storeNames, String what) {
    Map<String, Integer> position = new HashMap<>();
    for (int j = 0; j < vocabulary.size(); j++) {
      position.put(vocabulary.get(j), j);
    }
    Set<String> matched = new HashSet<>();
    int[][] maps = new int[varLists.size()][];
    for (int s = 0; s < varLists.size(); s++) {
      List<String> vars = varLists.get(s);
      int[] map = new int[vars.size()];
      boolean identity = vars.size() == vocabulary.size();
      Set<String> seen = new HashSet<>();
      for (int c = 0; c < map.length; c++) {
        String name = vars.get(c);
        Integer j = name == null ? null : position.get(name);
        map[c] = j == null ? -1 : j;
        identity &= map[c] == c;
        if (j != null) {
          if (!seen.add(name)) {
            throw new RequestException("var_names: " + storeNames.get(s) + " has " + what
                + " \"" + name + "\" twice; a variable must be named once to be selected");
          }
          matched.add(name);
        }
      }
      maps[s] = identity ? null : map;
    }
    List<String> unmatched = vocabulary.stream().filter(v -> !matched.contains(v)).toList();
    return new VarJoin(JoinMode.OUTER, List.copyOf(vocabulary), maps, vocabulary.size(),
        unmatched);
  }

  /** Names of {@code var_names} that no store has (all zeros); empty for the joins. */
  public List<String> unmatched() {
    return unmatched;
  }

  /**
   * MappedCollection's join: none at all when every var index is identical; inner keeps the
   * variables in every store in the first store's order; outer takes the sorted union.
   */
  public static VarJoin compute(JoinMode requested, List<List<String>> varLists,
      List<String> storeNames) {
    int n = varLists.size();
    if (requested == JoinMode.NONE) {
      Set<Integer> widths = new HashSet<>();
      varLists.forEach(v -> widths.add(v.size()));
      Integer w = widths.size() == 1 ? widths.iterator().next() : null;
      return new VarJoin(JoinMode.NONE, null, new int[n][], w);
    }
    boolean allEqual = varLists.stream().allMatch(v -> v.equals(varLists.get(0)));
    if (allEqual) {
      return new VarJoin(JoinMode.NONE, varLists.get(0), new int[n][], varLists.get(0).size());
    }
    List<String> joint;
    if (requested == JoinMode.INNER) {
      Set<String> common = new HashSet<>(varLists.get(0));
      for (List<String> v : varLists.subList(1, n)) {
        common.retainAll(new HashSet<>(v));
      }
      joint = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      for (String name : varLists.get(0)) {
        if (common.contains(name) && seen.add(name)) {
          joint.add(name);
        }
      }
      if (joint.isEmpty()) {
        throw new RequestException("join \"inner\": the stores " + storeNames
            + " share no variable; use join \"outer\" or null");
      }
    } else {
      TreeSet<String> union = new TreeSet<>();
      varLists.forEach(union::addAll);
      joint = new ArrayList<>(union);
    }
    Map<String, Integer> position = new HashMap<>();
    for (int j = 0; j < joint.size(); j++) {
      position.put(joint.get(j), j);
    }
    int[][] maps = new int[n][];
    for (int s = 0; s < n; s++) {
      List<String> vars = varLists.get(s);
      int[] map = new int[vars.size()];
      boolean identity = vars.size() == joint.size();
      for (int c = 0; c < map.length; c++) {
        map[c] = position.getOrDefault(vars.get(c), -1);
        identity &= map[c] == c;
      }
      maps[s] = identity ? null : map;
    }
    return new VarJoin(requested, List.copyOf(joint), maps, joint.size());
  }

  /** INNER or OUTER when a join happens; NONE when rows keep their store's variables. */
  public JoinMode effective() {
    return effective;
  }

  /** The joint variables; null when join is none and the stores' variables differ. */
  public List<String> joint() {
    return joint;
  }

  /** Output width of joined rows; null when rows of different stores differ in width. */
  public Integer width() {
    return width;
  }

  /** Scatter map of store s, or null for identity. */
  public int[] storeToJoint(int store) {
    return storeToJoint[store];
  }
}
