/* The smallest useful launch: one work-item that bumps a counter. Timing a run of these
   gives a device's fixed cost per kernel launch (host/cl/launch_probe.c), the part of a
   tiny network's step that no kernel of cltrain can shorten. */
__kernel void launch_probe(__global uint *counter) {
  if (get_global_id(0) == 0) counter[0] += 1u;
}
