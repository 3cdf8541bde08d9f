/**
 * The one CSS block the demo and admin pages share.
 *
 * @module
 */

/** The pages' CSS. */
export const PAGE_STYLE = `
  :root { --ink: #1d2330; --muted: #6b7385; --line: #e3e6ee; --accent: #3b5bdb; --good: #2f9e44;
    --warn: #e8590c; --bad: #c92a2a; color-scheme: light; }
  * { box-sizing: border-box; } [hidden] { display: none !important; }
  body { font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f6f7fb;
    max-width: 64rem; margin: 0 auto; padding: 1rem; }
  header { display: flex; align-items: center; gap: .8rem; margin-bottom: 1rem; }
  h1 { font-size: 1.4rem; margin: 0; } h2, h3 { margin: 0 0 .5rem; font-size: 1rem; }
  small, .note { color: var(--muted); font-weight: normal; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: .8rem 1rem;
    margin-bottom: 1rem; }
  #login { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; }
  #login .error, .error { flex-basis: 100%; margin: 0; color: var(--bad); min-height: 1.2em; }
  main { display: grid; grid-template-columns: 1fr 18rem; gap: 0 1rem; }
  .wide { grid-column: 1 / -1; } .room { display: flex; flex-direction: column; }
  input { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; }
  button { font: inherit; padding: .35rem .8rem; border: 0; border-radius: 6px; cursor: pointer;
    background: var(--accent); color: #fff; } button:hover { filter: brightness(1.1); }
  #messages { list-style: none; padding: 0; margin: 0 0 .6rem; flex: 1 1 0; min-height: 16rem;
    overflow-y: auto; }
  #messages li { padding: .2rem .3rem; border-bottom: 1px solid #f1f2f6; }
  #messages .late { background: #fff4e6; } #messages .sys { color: var(--muted); }
  #say { display: flex; gap: .5rem; } #say input { flex: 1; }
  #members { margin: 0; padding-left: 1.2rem; }
  .badge { padding: .1rem .6rem; border-radius: 99px; background: var(--muted); color: #fff;
    font-size: .85rem; }
  .badge[data-state=open] { background: var(--good); }
  .badge[data-state=connecting], .badge[data-state=reconnecting] { background: var(--warn); }
  .badge[data-state=failed], .badge[data-state=closed] { background: var(--bad); }
  svg { width: 100%; height: 120px; background: #fafbff; border-radius: 6px; }
  polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
  .before { stroke: var(--warn); color: var(--warn); } .after { stroke: var(--good); color: var(--good); }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .2rem .4rem;
    border-bottom: 1px solid var(--line); font-size: .9rem; }
  .kpis { display: flex; flex-wrap: wrap; gap: 1rem; } .kpis div { min-width: 8rem; }
  .kpis b { display: block; font-size: 1.3rem; }
`;
