"""One offline HTML page per capture (results/NAME.html, next to the pcap and the SVG): the ladder
diagram, and each packet's fields when it is clicked, as Wireshark's flow graph shows them. One file,
no network: the SVG, the packets (as JSON) and a few lines of script are inside it. A link to
PAGE.html#p3 opens with packet 3 shown (the page clicks it itself). A TLS capture's page (lesson 7)
shows lesson 3's plaintext capture under it, its packets q0, q1, ...
"""
import html
import json

from . import ladder

SCRIPT = """
const packets = JSON.parse(document.getElementById('packets').textContent);
const panel = document.getElementById('details');
function show(event) {
  const group = event.currentTarget, packet = packets[group.id[0]][Number(group.id.slice(1))];
  document.querySelectorAll('g.packet.chosen').forEach(g => g.classList.remove('chosen'));
  group.classList.add('chosen');
  panel.replaceChildren(...Object.entries(packet).map(([name, value]) => {
    const row = document.createElement('tr'), key = document.createElement('th'), cell = document.createElement('td');
    key.textContent = name;
    cell.textContent = value;
    row.append(key, cell);
    return row;
  }));
  history.replaceState(null, '', '#' + group.id);
}
document.querySelectorAll('g.packet').forEach(g => g.addEventListener('click', show));
const asked = document.getElementById(location.hash.slice(1));
if (asked && asked.classList.contains('packet')) {
  asked.dispatchEvent(new MouseEvent('click', {bubbles: true}));
}
"""

STYLE = """
body { font-family: sans-serif; margin: 1em; display: flex; gap: 1em; align-items: flex-start; }
g.packet { cursor: pointer; }
g.packet:hover text, g.packet.chosen text { font-weight: bold; }
g.packet.chosen line { stroke-width: 3; }
aside { position: sticky; top: 1em; min-width: 22em; }
table { border-collapse: collapse; font-family: monospace; }
th { text-align: left; padding-right: 1em; color: #555; }
td { white-space: pre-wrap; word-break: break-all; }
table.records td, table.records th { border-bottom: 1px solid #ddd; padding: 0 0.6em; }
table.records td:nth-child(3), table.records td:nth-child(4) { white-space: nowrap; word-break: normal; }
"""


# fields lists what the page shows of one packet when it is clicked
# Arguments: number - its place in the capture, packet - one of ladder.read_packets' dicts
# Return Value: a dict of names to texts, in the order shown
# Assumptions: none
def fields(number, packet):
    shown = {'packet': str(number), 'time (ms)': '{:.3f}'.format(packet['time'] * 1000),
             'direction': 'to the server' if packet['to_server'] else 'from the server',
             'protocol': packet['proto'], 'from': '{}:{}'.format(*packet['src']), 'to': '{}:{}'.format(*packet['dst'])}
    if packet['proto'] == 'TCP':
        shown.update({'flags': ','.join(packet['flags']) or '(none)', 'seq (relative)': str(packet['seq']),
                      'ack (relative)': '' if packet['ack'] is None else str(packet['ack'])})
    shown.update({'payload length': str(len(packet['payload'])), 'payload': repr(packet['payload']),
                  'payload (hex)': packet['payload'].hex(' '),
                  'retransmission': 'yes (sent again by the kernel)' if packet['retransmission'] else 'no'})
    if packet.get('call'):
        shown['socket call'] = packet['call']
    return shown


# record_tables shows lesson 7's records field by field, one table per direction
# Arguments: records - {direction: [(offset, bytes as hex, field, value)]}, as socketlab.wire.records.decode gives
# Return Value: the HTML lines
# Assumptions: none
def record_tables(records):
    out = ["<h2>Lesson 7's records, field by field (every number big-endian: network order)</h2>"]
    for direction, rows in records.items():
        out.append('<h3>{} ({} fields)</h3>'.format(html.escape(direction), len(rows)))
        if not rows:
            out.append('<p>(no bytes)</p>')
            continue
        out.append('<table class="records"><tr><th>offset</th><th>bytes</th><th>field</th><th>value</th></tr>')
        out += ['<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'.format(offset, html.escape(raw), html.escape(name),
                                                                        html.escape(value)) for offset, raw, name, value in rows]
        out.append('</table>')
    return out


# html_page writes the page of one capture
# Arguments: packets - ladder.read_packets' list, server_name - the right column's name, title - a caption,
#            beside - for a TLS capture: (lesson 3's packets, its title), or (None, how to make one)
#            records - for lesson 7's upload or query: socketlab.wire.records.decode's rows, shown above the ladder
# Return Value: the HTML document as a string
# Assumptions: packets is not empty
def html_page(packets, server_name, title, beside=None, records=None):
    shown = {'p': [fields(i, p) for i, p in enumerate(packets)]}
    first = [] if records is None else record_tables(records)  # lesson 7's fields first: the ladder of an upload is long
    second = []
    if beside is not None:  # (packets, title) of lesson 3's capture, or (None, what to run to make one)
        if beside[0]:
            shown['q'] = [fields(i, p) for i, p in enumerate(beside[0])]
            second = ['<h2>Under it, for comparison, lesson 3\'s capture: the same exchange in plaintext</h2>',
                      ladder.svg_ladder(beside[0], server_name, beside[1], ids='q')]
        else:
            second = ['<p>{}</p>'.format(html.escape(beside[1]))]
    data = json.dumps(shown).replace('</', '<\\/')
    return '\n'.join([
        '<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
        '<title>{}</title>'.format(html.escape(title)), '<style>{}</style>'.format(STYLE), '</head>', '<body>',
        '<main>', *first, ladder.svg_ladder(packets, server_name, title), *second, '</main>',
        '<aside><h2>Packet</h2><p>Click an arrow to see its packet.</p><table id="details"></table></aside>',
        '<script type="application/json" id="packets">{}</script>'.format(data),
        '<script>{}</script>'.format(SCRIPT), '</body>', '</html>', ''])
