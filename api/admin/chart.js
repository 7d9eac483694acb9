// The Overview's sales chart, with fees and net proceeds per day.

import { $, amountSpan, el, explain, gql, localDay, money, notice, state } from './core.js';

export async function loadChart() {
  const tz = state.connection?.reportTimezone ?? 'UTC';
  const from = localDay(tz, 29);
  const to = localDay(tz, 0);
  // Fees and net proceeds come from the transactions, read on their own: the
  // sales chart stands even when they cannot be read.
  const [sales, profit] = await Promise.allSettled([
    gql('query($from: Date!, $to: Date!) { salesDaily(from: $from, to: $to) { date currencyCode revenue units orders pendingOrders } }', { from, to }),
    gql('query($from: Date!, $to: Date!) { profitDaily(from: $from, to: $to) { date currencyCode revenue fees refunds netProceeds } }', { from, to }),
  ]);
  if (sales.status === 'rejected') {
    notice(explain(sales.reason), true);
    return;
  }
  state.sales = sales.value.salesDaily;
  state.profit = profit.status === 'fulfilled' ? profit.value.profitDaily : null;
  state.profitError = profit.status === 'rejected' ? explain(profit.reason) : null;
  $('chart-tz').textContent = `Days in ${tz}, ${from} to ${to}`;
  const currencies = [...new Set([...state.sales, ...(state.profit ?? [])].map((d) => d.currencyCode))];
  // Default to the currency with the most revenue.
  const revenueOf = (c) => state.sales.filter((d) => d.currencyCode === c).reduce((s, d) => s + Number(d.revenue), 0);
  currencies.sort((a, b) => revenueOf(b) - revenueOf(a));
  const select = $('chart-currency');
  select.replaceChildren(...currencies.map((c) => el('option', { value: c }, c)));
  if (currencies.includes(state.chartCurrency)) select.value = state.chartCurrency;
  drawChart();
}

/** Adds decimal strings exactly (the API's amounts), for the totals. */
function addDecimal(a, b) {
  const scale = Math.max((a.split('.')[1] ?? '').length, (b.split('.')[1] ?? '').length);
  const toInt = (s) => {
    const [i, f = ''] = s.split('.');
    const neg = i.startsWith('-');
    const v = BigInt(i.replace('-', '') + f.padEnd(scale, '0'));
    return neg ? -v : v;
  };
  const sum = toInt(a) + toInt(b);
  const neg = sum < 0n;
  const digits = (neg ? -sum : sum).toString().padStart(scale + 1, '0');
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${out}` : out;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text != null) node.textContent = text;
  return node;
}

export function drawChart() {
  const currency = $('chart-currency').value;
  const days = state.sales.filter((d) => d.currencyCode === currency);
  const profitOf = new Map((state.profit ?? []).filter((p) => p.currencyCode === currency).map((p) => [p.date, p]));
  const totalRevenue = days.reduce((s, d) => addDecimal(s, String(d.revenue)), '0');
  const totalUnits = days.reduce((s, d) => s + d.units, 0);
  const totalOrders = days.reduce((s, d) => s + d.orders, 0);
  const pending = days.reduce((s, d) => s + d.pendingOrders, 0);
  $('chart-totals').textContent = currency
    ? `${money(totalRevenue, currency)} revenue · ${totalUnits} units · ${totalOrders} orders (${pending} pending)`
    : 'No sales yet.';
  $('chart-totals').dataset.revenue = totalRevenue;
  const W = 720; const H = 240; const left = 56; const right = 40; const top = 12; const bottom = 28;
  const maxRev = Math.max(1, ...days.map((d) => Number(d.revenue)));
  const maxUnits = Math.max(1, ...days.map((d) => d.units));
  const n = Math.max(days.length, 1);
  const slot = (W - left - right) / n;
  const y = (v, max) => top + (H - top - bottom) * (1 - v / max);
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `Revenue in ${currency} and units per day over ${days.length} days: ${money(totalRevenue, currency)}, ${totalUnits} units`,
  });
  chart.append(svg('line', { class: 'axis', x1: left, y1: H - bottom, x2: W - right, y2: H - bottom }));
  chart.append(svg('text', { x: left - 4, y: top + 8, 'text-anchor': 'end' }, money(maxRev, currency)));
  chart.append(svg('text', { x: left - 4, y: H - bottom, 'text-anchor': 'end' }, '0'));
  chart.append(svg('text', { x: W - right + 4, y: top + 8 }, `${maxUnits} u`));
  const points = [];
  days.forEach((d, i) => {
    const x = left + i * slot;
    const rev = Number(d.revenue);
    const bar = svg('rect', { class: 'bar-rev', x: x + slot * 0.15, width: slot * 0.7, y: y(rev, maxRev), height: H - bottom - y(rev, maxRev) });
    const p = profitOf.get(d.date);
    const fees = p ? `; fees ${p.fees} ${currency}, net proceeds ${p.netProceeds} ${currency}` : '';
    bar.append(svg('title', {}, `${d.date}: ${money(d.revenue, currency)}, ${d.units} units, ${d.orders} orders${fees}`));
    chart.append(bar);
    points.push(`${x + slot / 2},${y(d.units, maxUnits)}`);
    if (i % 5 === 0 || i === days.length - 1) {
      chart.append(svg('text', { x: x + slot / 2, y: H - 10, 'text-anchor': 'middle' }, d.date.slice(5)));
    }
  });
  if (points.length) chart.append(svg('polyline', { class: 'line-units', points: points.join(' ') }));
  const legend = el('div', { class: 'legend', 'aria-hidden': 'true' }, el('span', { class: 'rev' }, `Revenue (${currency})`), el('span', { class: 'units' }, 'Units'));
  $('chart').replaceChildren(chart, legend);
  drawProfit(currency, days, profitOf);
}

/** Beside each day's revenue: that day's fees, refunds and net proceeds in the same
 *  currency, exactly as the API sent them (nothing summed or rounded here). */
function drawProfit(currency, days, profitOf) {
  const body = $('profit').tBodies[0];
  if (state.profit == null) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'bad' },
      `Fees and net proceeds could not be read: ${state.profitError ?? 'no answer'}`)));
    return;
  }
  const dates = [...new Set([...days.map((d) => d.date), ...profitOf.keys()])].sort().reverse();
  const revenueOf = new Map(days.map((d) => [d.date, d.revenue]));
  const cell = (amount) => (amount == null
    ? el('td', { class: 'num muted' }, '—')
    : el('td', { class: 'num' }, amountSpan({ amount: String(amount), currencyCode: currency })));
  body.replaceChildren(...dates.map((date) => {
    const p = profitOf.get(date);
    return el('tr', { 'data-date': date },
      el('td', {}, date),
      cell(revenueOf.get(date)),
      cell(p?.revenue),
      cell(p?.fees), cell(p?.refunds), cell(p?.netProceeds));
  }));
  if (!profitOf.size) {
    body.prepend(el('tr', {}, el('td', { colspan: 6 },
      `No transactions posted in ${currency || 'any currency'} over these days yet: fees and net proceeds appear after a transactions sync.`)));
  }
}
