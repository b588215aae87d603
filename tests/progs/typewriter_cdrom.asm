; SPDX-License-Identifier: GPL-2.0-or-later
;
; Typewriter CD: a bootable ISO (El Torito, no emulation) whose boot image
; shows a banner on the VGA text screen and then echoes what is typed, for
; the console tests (issue 7): the browser sees the guest's boot text
; through the console and types into it.
;
;   screen  "VSA typewriter" banner (row 0, yellow on blue), a blank line,
;           "Type here:" and then every key typed (through the BIOS:
;           INT 16h reads, INT 10h teletype writes; Enter starts a new
;           line, Backspace rubs out)
;   COM1    "VSA-TYPEWRITER-READY" once the banner is up, then each key's
;           character as typed ("\n" for Enter), so a test can check the
;           keys reached the guest without reading the screen
;
; Between keys the guest waits in INT 16h, which halts with interrupts on:
; it heartbeats and costs little host CPU. No ACPI: it ignores the power
; button.

%define ISO_VOLUME_ID "VSA_TYPEWRITER"
IMAGE_SECTORS   equ 24

%include "com1.asm"
%include "iso_eltorito.asm"

; ---- 23: the boot image --------------------------------------------------------
section boot start=BOOT_LBA*SECTOR vstart=7C00h
bits 16
        jmp 0:start                     ; SeaBIOS enters at 07C0:0000
start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        sti
        cld
        com1_init

        mov ax, 0003h                   ; 80x25 colour text, cleared
        int 10h
        ; The banner: row 0 in yellow on blue, the full width.
        mov ax, 0B800h
        mov es, ax
        xor di, di
        mov ax, 1E20h
        mov cx, 80
        rep stosw
        mov si, banner
        xor di, di
.banner:
        lodsb
        test al, al
        jz .banner_done
        mov [es:di], al
        add di, 2
        jmp .banner
.banner_done:
        mov ah, 02h                     ; cursor to row 2, column 0
        xor bh, bh
        mov dx, 0200h
        int 10h
        mov si, prompt
        call show
        mov si, ready
        call serial

.key:   xor ah, ah                      ; INT 16h: wait for a key
        int 16h
        test al, al                     ; function and cursor keys: no character
        jz .key
        cmp al, 0E0h
        je .key
        cmp al, 0Dh
        je .enter
        cmp al, 08h
        je .backspace
        call teletype
        call com1_byte
        jmp .key
.enter:
        mov al, 0Dh
        call teletype
        mov al, 0Ah
        call teletype
        call com1_byte
        jmp .key
.backspace:
        call teletype                   ; back one column...
        mov al, ' '
        call teletype                   ; ...rub out...
        mov al, 08h
        call teletype                   ; ...and back again
        call com1_byte
        jmp .key

; teletype: AL at the cursor through INT 10h AH=0Eh (grey on black).
teletype:
        push ax
        push bx
        mov ah, 0Eh
        mov bx, 0007h
        int 10h
        pop bx
        pop ax
        ret

; show: the NUL-terminated string at SI on the screen.
show:
        lodsb
        test al, al
        jz .done
        call teletype
        jmp show
.done:  ret

; serial: the NUL-terminated string at SI to COM1.
serial:
        lodsb
        test al, al
        jz .done
        call com1_byte
        jmp serial
.done:  ret

; com1_byte: AL to COM1 after a bounded wait for the transmitter.
com1_byte:
        push ax
        push cx
        push dx
        mov ah, al
        mov dx, COM1 + 5
        mov cx, 0FFFFh
.wait:  in al, dx
        test al, 20h
        jnz .ready
        loop .wait
.ready: mov al, ah
        mov dx, COM1
        out dx, al
        pop dx
        pop cx
        pop ax
        ret

banner: db " VSA typewriter - the console test guest", 0
prompt: db "Type here: ", 0
ready:  db "VSA-TYPEWRITER-READY", 10, 0

        times SECTOR - ($ - $$) db 0
