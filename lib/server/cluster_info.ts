/**
 * The cluster as one node sees it (`Hub.cluster()`): the backplane link, live nodes and counters.
 *
 * @module
 */
import type { BackplaneStats } from "../backplane/backplane.ts";
import type { LinkState } from "../backplane/link.ts";
import type { Cluster } from "./cluster.ts";
import type { ServerContext } from "./context.ts";

/** The cluster as one node sees it (`Hub.cluster()`). */
export interface ClusterInfo extends BackplaneStats {
  /** `false` for a server alone (the default private backplane): nothing crosses nodes. */
  clustered: boolean;
  /** This node's id. */
  nodeId: string;
  /** The backplane link's state (`up` for a server alone). */
  link: LinkState;
  /** Live nodes this node knows of (itself included). */
  nodes: number;
  /** Backplane topics this node listens to. */
  listening: number;
  /** Gaps announced to this node's connections (`sente-lite/gap` with reason `backplane`). */
  gaps: number;
}

/** A snapshot of the cluster as the node of `ctx` and `cluster` sees it. */
export function clusterInfo(ctx: ServerContext, cluster: Cluster): ClusterInfo {
  const backplane = cluster.backplane;
  return {
    clustered: ctx.topics.clustered,
    nodeId: backplane.nodeId,
    link: backplane.link.state,
    nodes: backplane.presence.nodes().size,
    listening: ctx.topics.size,
    gaps: cluster.gaps,
    ...backplane.stats(),
  };
}
